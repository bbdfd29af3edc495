package catalogue_test

// The contrib packs need Moodle plugins that the core fixture does not install, so every one of
// their measures must be skipped (and never fail) on all three engines. Each pack tests its
// values itself, against its own tables, in contrib/<type>/<plugin>.
func init() {
	for _, key := range []string{
		// contrib/mod/customcert (mod_customcert)
		"moodle.customcert.issued",
		"moodle.customcert.recipients",
		"moodle.customcert.courses",
		"moodle.customcert.activities",
		// contrib/mod/hvp (mod_hvp)
		"moodle.hvp.created",
		"moodle.hvp.updated",
		"moodle.hvp.contents",
		"moodle.hvp.courses",
		"moodle.hvp.contenttypes",
	} {
		expect(key, func(*X) any { return Skipped{} })
	}
}
