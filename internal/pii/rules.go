package pii

// rule normalizes one trimmed, non-empty, valid UTF-8 value that is not
// already a hash. On failure it returns an *Error without Field (the caller
// fills it in) whose detail never includes the value.
type rule func(s string, o Options) (string, *Error)

// ruleSet is one platform's normalization table: one rule per canonical
// field. A nil rule means the platform does not accept that field. Tables are
// composed from the shared building blocks in this package, so two platforms
// that agree on a field share the function and differ only where their
// documentation differs.
type ruleSet struct {
	email       rule
	phone       rule
	firstName   rule
	lastName    rule
	gender      rule
	dateOfBirth rule
	city        rule
	state       rule
	zip         rule
	country     rule
	externalID  rule
	street      rule
}

// rule returns the table's rule for f, or nil if f is unknown or the platform
// has no rule for it.
func (r *ruleSet) rule(f Field) rule {
	switch f {
	case Email:
		return r.email
	case Phone:
		return r.phone
	case FirstName:
		return r.firstName
	case LastName:
		return r.lastName
	case Gender:
		return r.gender
	case DateOfBirth:
		return r.dateOfBirth
	case City:
		return r.city
	case State:
		return r.state
	case Zip:
		return r.zip
	case Country:
		return r.country
	case ExternalID:
		return r.externalID
	case Street:
		return r.street
	}
	return nil
}
