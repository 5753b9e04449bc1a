package schema

// Screened reports whether Validate would accept doc on the fast path,
// without the library.
func (v *Validator) Screened(doc any) bool {
	name := SchemaFor(doc)
	return name != "" && v.screens[name].accepts(doc)
}
