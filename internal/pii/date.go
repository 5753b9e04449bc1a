package pii

// minBirthYear is the earliest year platforms accept in a date of birth.
const minBirthYear = 1900

// dateYYYYMMDD turns a date of birth into YYYYMMDD. Accepted inputs:
//
//   - YYYYMMDD ("19900214")
//   - year first with '-', '/' or '.' ("1990-02-14", "1990/2/14"), also as
//     the date part of an ISO 8601 timestamp ("1990-02-14T00:00:00Z")
//   - year last with '/' or '-', always in US order month/day
//     ("02/14/1990", "2-14-1990")
//
// Day-first dates ("14.02.1990") are rejected rather than guessed: a wrong
// guess hashes fine and silently never matches. The year must lie between
// 1900 and the current year (Options.Now) and the day must exist in that
// month.
func dateYYYYMMDD(s string, o Options) (string, *Error) {
	y, m, d, ok := parseDate(s)
	if !ok {
		return "", &Error{Reason: ReasonInvalidDate, detail: "expected YYYY-MM-DD, YYYYMMDD or MM/DD/YYYY"}
	}
	if y < minBirthYear || y > o.now().Year() {
		return "", &Error{Reason: ReasonInvalidDate, detail: "year must be between 1900 and the current year"}
	}
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return "", &Error{Reason: ReasonInvalidDate, detail: "no such day"}
	}
	buf := [8]byte{
		byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10),
		byte('0' + m/10), byte('0' + m%10),
		byte('0' + d/10), byte('0' + d%10),
	}
	return string(buf[:]), nil
}

// parseDate splits s into year, month and day without judging their ranges.
func parseDate(s string) (y, m, d int, ok bool) {
	if len(s) > 10 && s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == 't' || s[10] == ' ') {
		s = s[:10] // the date part of a timestamp; the time of day is irrelevant to a birthday
	}
	if len(s) == 8 && allDigits(s) {
		return atoi(s[:4]), atoi(s[4:6]), atoi(s[6:]), true
	}
	var parts [3]string
	var sep byte
	n, start := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if '0' <= c && c <= '9' {
			continue
		}
		if c != '-' && c != '/' && c != '.' || sep != 0 && c != sep || n == 2 {
			return 0, 0, 0, false
		}
		sep = c
		parts[n] = s[start:i]
		n++
		start = i + 1
	}
	if n != 2 {
		return 0, 0, 0, false
	}
	parts[2] = s[start:]
	short := func(p string) bool { return len(p) == 1 || len(p) == 2 }
	switch {
	case len(parts[0]) == 4 && short(parts[1]) && short(parts[2]):
		return atoi(parts[0]), atoi(parts[1]), atoi(parts[2]), true
	case sep != '.' && short(parts[0]) && short(parts[1]) && len(parts[2]) == 4:
		return atoi(parts[2]), atoi(parts[0]), atoi(parts[1]), true
	}
	return 0, 0, 0, false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// atoi parses a short run of ASCII digits already known to be digits.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
