// Package discovery holds the low-level discovery rules (top-level course categories,
// authentication plugins, courses of interest) and the item prototypes they segment. Importing
// it registers them in measures.Default.
package discovery
