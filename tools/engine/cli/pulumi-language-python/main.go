// Command pulumi-language-python is aio-mq's own, minimal Python language host
// for the Pulumi engine.
//
// Why it exists: the upstream host lives in its own Go module
// (github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3), and the
// Go module proxy that this project can reach refuses every version of that
// module, while prebuilt Pulumi binaries cannot be downloaded at all. Everything
// else the engine needs (CLI, SDK, the Python toolchain helpers, the
// pulumi-language-python-exec launcher) is available from modules the proxy does
// serve, so this host only glues those together. It is built by
// tools/ensure-engine next to the `pulumi` CLI, from the same sdk/v3 version.
//
// What it supports, and why that is enough for aio-mq:
//   - Run: runs the Python program through the `pulumi-language-python-exec`
//     launcher shipped in the sdk/v3 module (the same script upstream uses), in
//     the virtualenv/toolchain named by the project's runtime options. This is
//     all that `pulumi preview/up/destroy/refresh` needs. Unlike upstream's
//     host, a configuration too large for one environment string reaches the
//     program through a pipe (largeenv.go).
//   - RunPlugin: runs a plugin written in Python, such as a policy pack
//     (PulumiPolicy.yaml), as `python -u DIR ARGS...` in its own virtualenv;
//     pulumi_policy then serves the analyzer and prints its port.
//   - InstallDependencies, About, GetProgramDependencies: delegated to the
//     sdk/v3 python/toolchain package (pip, poetry or uv), so `pulumi install`
//     and `pulumi about` work.
//   - GetRequiredPlugins/GetRequiredPackages answer "none": aio-mq runs with
//     PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true and finds its providers on
//     PATH, and the engine loads providers on demand when resources register.
//
// Not supported (a clear error, or the engine's "unimplemented" answer): type
// checkers, debugger attach, and code generation (pulumi convert / package
// gen-sdk).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is set at build time (-ldflags -X main.version=...) to the version of
// the pulumi CLI it is built with; the engine shows it in `pulumi about`.
var version = "0.0.0-dev"

// execScriptName is the Python launcher that configures the Pulumi runtime from
// command-line flags and then runs the user's program.
const execScriptName = "pulumi-language-python-exec"

// bailExitCode is what the launcher exits with after it has already shown the
// user an actionable error; the engine should then not print another one.
const bailExitCode = 32

func main() {
	// The engine launches language hosts as `HOST [logging flags] ENGINE_ADDRESS`.
	fs := flag.NewFlagSet("pulumi-language-python", flag.ContinueOnError)
	logToStderr := fs.Bool("logtostderr", false, "log to stderr")
	verbose := fs.Int("v", 0, "log verbosity")
	logFlow := fs.Bool("logflow", false, "flow log settings to child processes")
	tracing := fs.String("tracing", "", "tracing endpoint, passed on to the program")
	_ = fs.String("root", "", "project root (older engines; ignored)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		fatalf("%v", err)
	}
	logging.InitLogging(*logToStderr, *verbose, *logFlow)

	var engineAddress string
	if fs.NArg() > 0 {
		engineAddress = fs.Arg(fs.NArg() - 1)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if engineAddress != "" {
		// Exit on our own if the engine goes away without stopping us.
		if err := rpcutil.Healthcheck(ctx, engineAddress, 5*time.Minute, cancel); err != nil {
			fatalf("could not start the engine health check: %v", err)
		}
	}

	host := &languageHost{engineAddress: engineAddress, tracing: *tracing}
	stop := make(chan bool)
	go func() {
		<-ctx.Done()
		close(stop)
	}()
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: stop,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		fatalf("could not start the language host RPC server: %v", err)
	}

	// The engine reads the port from the first line of our stdout.
	fmt.Printf("%d\n", handle.Port)

	if err := <-handle.Done; err != nil {
		fatalf("language host RPC server stopped: %v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "pulumi-language-python: "+format+"\n", args...)
	os.Exit(1)
}

type languageHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	mu            sync.Mutex
	engineAddress string
	tracing       string
}

func (h *languageHost) engine() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engineAddress
}

func (h *languageHost) Handshake(
	ctx context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *languageHost) GetPluginInfo(ctx context.Context, _ *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// GetRequiredPlugins and GetRequiredPackages: see the package comment for why
// "none" is a correct answer here.
func (h *languageHost) GetRequiredPlugins(
	ctx context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *languageHost) GetRequiredPackages(
	ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *languageHost) RuntimeOptionsPrompts(
	ctx context.Context, req *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

// runtimeOptions holds the `runtime.options` of Pulumi.yaml that matter here.
type runtimeOptions struct {
	python      toolchain.PythonOptions
	typechecker string
}

func parseRuntimeOptions(info *pulumirpc.ProgramInfo) (runtimeOptions, error) {
	var opts runtimeOptions
	if info == nil {
		return opts, errors.New("the engine sent no program information; this host needs a newer engine")
	}
	opts.python.Root = info.GetRootDirectory()
	opts.python.ProgramDir = info.GetProgramDirectory()

	var raw map[string]any
	if info.GetOptions() != nil {
		raw = info.GetOptions().AsMap()
	}
	str := func(key string) (string, error) {
		v, ok := raw[key]
		if !ok || v == nil {
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("runtime option %q must be a string, got %T", key, v)
		}
		return s, nil
	}

	var err error
	if opts.python.Virtualenv, err = str("virtualenv"); err != nil {
		return opts, err
	}
	tc, err := str("toolchain")
	if err != nil {
		return opts, err
	}
	switch strings.ToLower(tc) {
	case "":
		opts.python.Toolchain = toolchain.Auto
	case "pip":
		opts.python.Toolchain = toolchain.Pip
	case "poetry":
		opts.python.Toolchain = toolchain.Poetry
	case "uv":
		opts.python.Toolchain = toolchain.Uv
	default:
		return opts, fmt.Errorf("unsupported python toolchain %q (expected pip, poetry or uv)", tc)
	}
	if opts.typechecker, err = str("typechecker"); err != nil {
		return opts, err
	}
	return opts, nil
}

func (h *languageHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	opts, err := parseRuntimeOptions(req.GetInfo())
	if err != nil {
		return nil, err
	}
	if opts.typechecker != "" {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf(
			"runtime option typechecker=%q is not supported by aio-mq's Python language host; "+
				"run the type checker outside of Pulumi instead", opts.typechecker)}, nil
	}
	if req.GetAttachDebugger() {
		return &pulumirpc.RunResponse{Error: "attaching a debugger is not supported by aio-mq's Python language host"}, nil
	}

	tc, err := toolchain.ResolveToolchain(opts.python)
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	execScript, err := findExecScript()
	if err != nil {
		return nil, err
	}

	program := req.GetProgram()
	if info := req.GetInfo(); info.GetProgramDirectory() != "" {
		entry := info.GetEntryPoint()
		if entry == "" {
			entry = "."
		}
		program = filepath.Join(info.GetProgramDirectory(), entry)
	}

	args := []string{
		"-u", execScript,
		"--monitor", req.GetMonitorAddress(),
		"--engine", h.engine(),
		"--project", req.GetProject(),
		"--stack", req.GetStack(),
		"--pwd", req.GetPwd(),
		"--dry_run", strconv.FormatBool(req.GetDryRun()),
		"--parallel", strconv.Itoa(int(req.GetParallel())),
		"--organization", req.GetOrganization(),
		"--root_directory", req.GetInfo().GetRootDirectory(),
	}
	if h.tracing != "" {
		args = append(args, "--tracing", h.tracing)
	}
	args = append(args, program)
	args = append(args, req.GetArgs()...)

	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("preparing the python command: %w", err)
	}

	// The Python SDK reads the stack's configuration from these variables.
	config, err := json.Marshal(nonNilMap(req.GetConfig()))
	if err != nil {
		return nil, err
	}
	secretKeys, err := json.Marshal(nonNilSlice(req.GetConfigSecretKeys()))
	if err != nil {
		return nil, err
	}
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	env, payload, err := splitLargeEnv(append(env,
		"PULUMI_CONFIG="+string(config),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys),
	))
	if err != nil {
		return nil, err
	}
	if payload != nil {
		if cmd, err = tc.Command(ctx, bootstrapArgs(args)...); err != nil {
			return nil, fmt.Errorf("preparing the python command: %w", err)
		}
	}
	cmd.Env = env
	// Our stdout and stderr are relayed by the engine to the user, so the
	// program's output (print(), tracebacks) shows up in `pulumi up`.
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	cmd.Dir = req.GetPwd()

	if err := runWithPayload(cmd, payload); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if code := exitErr.ExitCode(); code == bailExitCode {
				return &pulumirpc.RunResponse{Bail: true}, nil
			} else if code >= 0 {
				return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", code)}, nil
			}
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited unexpectedly: %v", err)}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Problem executing program (could not run %s): %v",
			cmd.Path, err)}, nil
	}
	return &pulumirpc.RunResponse{}, nil
}

// findExecScript looks for the launcher next to this binary (where
// tools/ensure-engine puts it), then on PATH.
func findExecScript() (string, error) {
	if self, err := os.Executable(); err == nil {
		if resolved, err := filepath.EvalSymlinks(self); err == nil {
			self = resolved
		}
		candidate := filepath.Join(filepath.Dir(self), execScriptName)
		if _, err := os.Stat(candidate); err == nil {
			return candidate, nil
		}
	}
	if p, err := exec.LookPath(execScriptName); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("could not find %s next to the language host or on PATH", execScriptName)
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func nonNilSlice(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// RunPlugin runs the Python plugin in req.Info's program directory and streams
// its output back; the engine reads the plugin's port from that stdout.
func (h *languageHost) RunPlugin(
	req *pulumirpc.RunPluginRequest,
	server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse],
) error {
	if req.GetAttachDebugger() {
		return errors.New("attaching a debugger is not supported by aio-mq's Python language host")
	}
	opts, err := parseRuntimeOptions(req.GetInfo())
	if err != nil {
		return err
	}
	if opts.typechecker != "" {
		return fmt.Errorf("runtime option typechecker=%q is not supported by aio-mq's Python language host",
			opts.typechecker)
	}
	tc, err := toolchain.ResolveToolchain(opts.python)
	if err != nil {
		return err
	}
	ctx := server.Context()
	if err := tc.ValidateVenv(ctx); err != nil {
		return err
	}

	entry := req.GetInfo().GetEntryPoint()
	if entry == "" {
		entry = "."
	}
	program := filepath.Join(req.GetInfo().GetProgramDirectory(), entry)
	args := append([]string{"-u", program}, req.GetArgs()...)
	cmd, err := tc.Command(ctx, args...)
	if err != nil {
		return fmt.Errorf("preparing the python command: %w", err)
	}
	// A policy pack gets the stack's configuration in its environment too.
	env, payload, err := splitLargeEnv(pluginEnv(req.GetEnv(), cmd.Env))
	if err != nil {
		return err
	}
	if payload != nil {
		if cmd, err = tc.Command(ctx, bootstrapArgs(args)...); err != nil {
			return fmt.Errorf("preparing the python command: %w", err)
		}
	}
	cmd.Env = env
	cmd.Dir = req.GetPwd()

	var sendMu sync.Mutex
	cmd.Stdout = &streamWriter{mu: &sendMu, send: func(b []byte) error {
		return server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}})
	}}
	cmd.Stderr = &streamWriter{mu: &sendMu, send: func(b []byte) error {
		return server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}})
	}}

	code := 0
	if err := runWithPayload(cmd, payload); err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) {
			return fmt.Errorf("could not run %s: %w", cmd.Path, err)
		}
		code = exitErr.ExitCode()
	}
	sendMu.Lock()
	defer sendMu.Unlock()
	return server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)}})
}

// pluginEnv is the environment the engine asked for (engineEnv), with the
// plugin's virtualenv activated the same way the toolchain activated it in
// toolchainEnv (which starts from our own environment instead).
func pluginEnv(engineEnv, toolchainEnv []string) []string {
	env := engineEnv
	if len(env) == 0 {
		env = os.Environ()
	}
	for _, kv := range toolchainEnv {
		if venv, ok := strings.CutPrefix(kv, "VIRTUAL_ENV="); ok && venv != "" {
			return toolchain.ActivateVirtualEnv(env, venv)
		}
	}
	return env
}

func (h *languageHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest,
	server grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	opts, err := parseRuntimeOptions(req.GetInfo())
	if err != nil {
		return err
	}
	tc, err := toolchain.ResolveToolchain(opts.python)
	if err != nil {
		return err
	}
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetDirectory()
	}
	var sendMu sync.Mutex
	stdout := &streamWriter{mu: &sendMu, send: func(b []byte) error {
		return server.Send(&pulumirpc.InstallDependenciesResponse{Stdout: b})
	}}
	stderr := &streamWriter{mu: &sendMu, send: func(b []byte) error {
		return server.Send(&pulumirpc.InstallDependenciesResponse{Stderr: b})
	}}
	return tc.InstallDependencies(server.Context(), dir, req.GetUseLanguageVersionTools(),
		true /*showOutput*/, stdout, stderr)
}

// streamWriter forwards writes to a gRPC stream; stdout and stderr share one
// mutex because a stream must not be sent to concurrently.
type streamWriter struct {
	mu   *sync.Mutex
	send func([]byte) error
}

var _ io.Writer = (*streamWriter)(nil)

func (w *streamWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	buf := append([]byte(nil), p...)
	if err := w.send(buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (h *languageHost) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	opts, err := parseRuntimeOptions(req.GetInfo())
	if err != nil {
		return nil, err
	}
	tc, err := toolchain.ResolveToolchain(opts.python)
	if err != nil {
		return nil, err
	}
	info, err := tc.About(ctx)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{
		Executable: info.PythonExecutable,
		Version:    info.PythonVersion.String(),
		Metadata:   map[string]string{"toolchain": info.ToolchainVersion.String()},
	}, nil
}

func (h *languageHost) GetProgramDependencies(
	ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	opts, err := parseRuntimeOptions(req.GetInfo())
	if err != nil {
		return nil, err
	}
	tc, err := toolchain.ResolveToolchain(opts.python)
	if err != nil {
		return nil, err
	}
	pkgs, err := tc.ListPackages(ctx, req.GetTransitiveDependencies())
	if err != nil {
		return nil, err
	}
	deps := make([]*pulumirpc.DependencyInfo, 0, len(pkgs))
	for _, p := range pkgs {
		deps = append(deps, &pulumirpc.DependencyInfo{Name: p.Name, Version: p.Version})
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}

// Template is called by `pulumi new`; there is nothing to adjust for pip.
func (h *languageHost) Template(ctx context.Context, req *pulumirpc.TemplateRequest) (*pulumirpc.TemplateResponse, error) {
	return &pulumirpc.TemplateResponse{}, nil
}
