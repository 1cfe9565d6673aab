// Command embedgen writes the two files that the Kubernetes provider's main
// package embeds (schema-embed.json, terraform-mapping-embed.json).
//
// Why: upstream generates them in its build (`go generate` in
// cmd/pulumi-resource-kubernetes) and gitignores them, so they are missing from
// the provider's Go module. Their content is fully determined by files that the
// module does ship: schema.json with the release version filled in, and
// terraform-mapping.json, both re-encoded as compact JSON. This program does
// exactly that with the standard library only, so it builds in a second.
//
// Usage: embedgen -version 4.25.0 DIR
// where DIR is a writable copy of the provider's cmd/pulumi-resource-kubernetes.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	version := flag.String("version", "", "provider version to record in the schema (no leading v)")
	flag.Parse()
	if *version == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: embedgen -version X.Y.Z DIR")
		os.Exit(2)
	}
	dir := flag.Arg(0)
	if err := run(dir, *version); err != nil {
		fmt.Fprintf(os.Stderr, "embedgen: %v\n", err)
		os.Exit(1)
	}
}

func run(dir, version string) error {
	// The schema keeps every top-level field as it is (json.RawMessage) and
	// only gains "version", which the engine and SDK generators read.
	var schema map[string]json.RawMessage
	if err := readJSON(filepath.Join(dir, "schema.json"), &schema); err != nil {
		return err
	}
	v, err := json.Marshal(version)
	if err != nil {
		return err
	}
	schema["version"] = v
	if err := writeJSON(filepath.Join(dir, "schema-embed.json"), schema); err != nil {
		return err
	}

	var mapping any
	if err := readJSON(filepath.Join(dir, "terraform-mapping.json"), &mapping); err != nil {
		return err
	}
	return writeJSON(filepath.Join(dir, "terraform-mapping-embed.json"), mapping)
}

func readJSON(path string, into any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, into); err != nil {
		return fmt.Errorf("parsing %s: %w", path, err)
	}
	return nil
}

func writeJSON(path string, value any) error {
	data, err := json.Marshal(value) // compact, like upstream's generator
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	return os.WriteFile(path, data, 0o644)
}
