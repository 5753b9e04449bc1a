package pii

// phoneWithPlus is the rule for platforms that want E.164 with its '+':
// "(650)555-1212" in region US → "+16505551212". It resolves the number
// exactly as phoneDigits does and only adds the prefix, so the two formats
// can never disagree about which number a value is.
func phoneWithPlus(s string, o Options) (string, *Error) {
	d, err := resolvePhone(s, o)
	if err != nil {
		return "", err
	}
	return "+" + d, nil
}
