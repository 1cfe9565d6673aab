// Command pulumi-language-yaml runs Pulumi YAML programs: upstream's language
// host (github.com/pulumi/pulumi-yaml/pkg/server, at the version the Go module
// proxy serves) behind a main of our own that adds the one RPC it lacks.
//
// Why: `pulumi package add` ends by asking the program's language host to Link
// the generated SDK. pulumi-yaml v1.25.0 answers "method Link not implemented",
// so adding a package to a YAML program fails after the SDK was generated. A
// YAML program needs nothing linked: it names the package's resources by type
// token, and the CLI records the package in Pulumi.yaml itself. So Link answers
// with nothing to do, as later pulumi-yaml releases do.
//
// Package schemas are loaded through the engine's schema loader (useRPCLoader),
// as upstream's own conformance tests run the host: plugins are then found and
// started by the CLI (v3.274.1, e.g. a component package recorded in
// Pulumi.yaml), not by the older pulumi pkg/v3 this host is compiled with, which
// starts plugins' language hosts with flags newer hosts no longer take.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/pulumi/pulumi-yaml/pkg/server"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
)

// host is pulumi-yaml's language host with Link added.
type host struct {
	pulumirpc.LanguageRuntimeServer
}

func (host) Link(context.Context, *pulumirpc.LinkRequest) (*pulumirpc.LinkResponse, error) {
	return &pulumirpc.LinkResponse{}, nil
}

func main() {
	// The engine starts language hosts as `HOST [flags] ENGINE_ADDRESS`.
	tracing := flag.String("tracing", "", "emit tracing to a Zipkin-compatible endpoint")
	_ = flag.String("root", "", "root of the program (older engines; ignored)")
	_ = flag.String("compiler", "", "obsolete; ignored")
	flag.Parse()
	logging.InitLogging(false, 0, false)
	cmdutil.InitTracing("pulumi-language-yaml", "pulumi-language-yaml", *tracing)

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	var engineAddress string
	if flag.NArg() > 0 {
		engineAddress = flag.Arg(0)
		// Exit on our own if the engine goes away without stopping us.
		if err := rpcutil.Healthcheck(ctx, engineAddress, 5*time.Minute, cancel); err != nil {
			fatalf("could not start the engine health check: %v", err)
		}
	}
	stop := make(chan bool)
	go func() {
		<-ctx.Done()
		close(stop)
	}()

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: stop,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv,
				host{server.NewLanguageHost(engineAddress, *tracing, true /* useRPCLoader */)})
			return nil
		},
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
	fmt.Fprintf(os.Stderr, "pulumi-language-yaml: "+format+"\n", args...)
	os.Exit(1)
}
