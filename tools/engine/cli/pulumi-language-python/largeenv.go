package main

// Large environment entries, handed to Python through a pipe.
//
// The engine gives a program its whole stack configuration in one environment
// entry, PULUMI_CONFIG (and a policy pack the same, in the env of RunPlugin).
// Linux refuses to start a process with an environment string over 128 KiB
// (MAX_ARG_STRLEN): "argument list too long" at about 3,500 plain listeners,
// 490 with automatic TLS or 120 with inline certificates. So an entry over
// envInlineLimit is left out of the process environment and written to a pipe
// the child inherits as fd 3; a small bootstrap given with `python -c` puts it
// back into os.environ and then runs the script as Python would have. Nothing
// touches the disk, so a decrypted secret in the configuration is not written
// anywhere it was not before.

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
)

// envInlineLimit is the longest environment entry passed to Python directly.
const envInlineLimit = 64 << 10

// envBootstrap reads the left-out entries (a JSON object) from fd 3, then runs
// sys.argv[1] with the remaining arguments, with the sys.path[0] Python gives a
// script or a directory it runs.
const envBootstrap = `import json, os, runpy, sys
with os.fdopen(3, encoding="utf-8") as entries:
    os.environ.update(json.load(entries))
sys.argv = sys.argv[1:]
target = os.path.abspath(sys.argv[0])
sys.path[0] = target if os.path.isdir(target) else os.path.dirname(target)
runpy.run_path(sys.argv[0], run_name="__main__")
`

// splitLargeEnv returns env without its entries longer than envInlineLimit, and
// those entries as the JSON object envBootstrap reads (nil when there are none).
func splitLargeEnv(env []string) ([]string, []byte, error) {
	kept := make([]string, 0, len(env))
	large := map[string]string{}
	for _, kv := range env {
		name, value, ok := strings.Cut(kv, "=")
		if ok && len(kv) > envInlineLimit {
			large[name] = value
			continue
		}
		kept = append(kept, kv)
	}
	if len(large) == 0 {
		return env, nil, nil
	}
	payload, err := json.Marshal(large)
	return kept, payload, err
}

// bootstrapArgs turns `python -u SCRIPT ARGS...` into the same run through
// envBootstrap.
func bootstrapArgs(args []string) []string {
	out := []string{}
	if len(args) > 0 && args[0] == "-u" {
		out = append(out, "-u")
		args = args[1:]
	}
	return append(append(out, "-c", envBootstrap), args...)
}

// runWithPayload runs cmd; a non-nil payload is written to the pipe the child
// reads as fd 3.
func runWithPayload(cmd *exec.Cmd, payload []byte) error {
	if payload == nil {
		return cmd.Run()
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd.ExtraFiles = []*os.File{r}
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return err
	}
	r.Close()
	go func() {
		// Fails with EPIPE if the child exits without reading; Wait reports that.
		_, _ = w.Write(payload)
		w.Close()
	}()
	return cmd.Wait()
}
