// Package all imports every contrib measure pack, so that a program or a test that imports it
// sees the whole catalogue.
package all
