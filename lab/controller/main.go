// Command controller runs cert-manager's real controllers (from the tagged
// github.com/cert-manager/cert-manager module) out of cluster against a
// kubeconfig, for kubectl-certdoctor's lab. cert-manager's own cmd/controller
// is an untagged nested module the Go proxy cannot serve, so this is our own,
// deliberately small wiring: no leader election, no TLS metrics, no profiler.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/cert-manager/cert-manager/pkg/controller"
	"github.com/cert-manager/cert-manager/pkg/healthz"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util"
	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/sets"
	logsapi "k8s.io/component-base/logs/api/v1"

	// Each controller package registers its constructor with
	// controller.Known() from init; these are the controllers cert-manager
	// enables by default, minus Vault and Venafi (the lab has neither server,
	// and Venafi's client library is not always obtainable from the proxy).
	_ "github.com/cert-manager/cert-manager/pkg/controller/acmechallenges"
	_ "github.com/cert-manager/cert-manager/pkg/controller/acmeorders"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificate-shim/ingresses"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/acme"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/metrics"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	_ "github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	_ "github.com/cert-manager/cert-manager/pkg/controller/issuers"

	// The issuer implementations the Issuer/ClusterIssuer controllers set up.
	_ "github.com/cert-manager/cert-manager/pkg/issuer/acme"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
)

// labConfig holds the settings the lab varies; everything else takes
// cert-manager's documented controller defaults (v1.21).
type labConfig struct {
	kubeconfig               string
	namespace                string
	clusterResourceNamespace string
	controllers              []string
	http01Nameservers        []string
	dns01Nameservers         []string
	dns01NameserversOnly     bool
	checkRetryPeriod         time.Duration
	metricsAddress           string
	healthzAddress           string
	workers                  int
	maxConcurrentChallenges  int
	minBackoff               time.Duration
	maxBackoff               time.Duration
	solverImage              string
	logging                  logsapi.LoggingConfiguration
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	logf.InitLogs()
	defer logf.FlushLogs()

	cfg, err := parseConfig(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "lab controller: %v\n", err)
		os.Exit(2)
	}
	ctx = logf.NewContext(ctx, logf.Log, "controller")
	if err := run(ctx, cfg); err != nil {
		logf.Log.Error(err, "lab controller stopped with an error")
		logf.FlushLogs()
		os.Exit(1)
	}
}

// parseConfig reads the flags (named as cert-manager's controller names them).
func parseConfig(args []string) (*labConfig, error) {
	cfg := &labConfig{}
	logsapi.SetRecommendedLoggingConfiguration(&cfg.logging)
	fs := pflag.NewFlagSet("controller", pflag.ContinueOnError)
	fs.StringVar(&cfg.kubeconfig, "kubeconfig", "", "kubeconfig of the cluster to manage (required)")
	fs.StringVar(&cfg.namespace, "namespace", "", "limit to one namespace (disables ClusterIssuers)")
	fs.StringVar(&cfg.clusterResourceNamespace, "cluster-resource-namespace", "kube-system", "namespace of ClusterIssuer secrets")
	fs.StringSliceVar(&cfg.controllers, "controllers", []string{"*"}, "controllers to run: '*' for all built in, '-name' to leave one out")
	fs.StringSliceVar(&cfg.http01Nameservers, "acme-http01-solver-nameservers", nil, "host:port resolvers for the HTTP-01 self check")
	fs.StringSliceVar(&cfg.dns01Nameservers, "dns01-recursive-nameservers", nil, "host:port resolvers for the DNS-01 self check (required)")
	fs.BoolVar(&cfg.dns01NameserversOnly, "dns01-recursive-nameservers-only", false, "never ask authoritative servers directly")
	fs.DurationVar(&cfg.checkRetryPeriod, "dns01-check-retry-period", 10*time.Second, "wait between propagation checks")
	fs.StringVar(&cfg.metricsAddress, "metrics-listen-address", "127.0.0.1:0", "host:port of the metrics endpoint")
	fs.StringVar(&cfg.healthzAddress, "internal-healthz-listen-address", "127.0.0.1:0", "host:port of /livez")
	fs.IntVar(&cfg.workers, "concurrent-workers", 5, "workers per controller")
	fs.IntVar(&cfg.maxConcurrentChallenges, "max-concurrent-challenges", 60, "challenges processed at once")
	fs.DurationVar(&cfg.minBackoff, "certificate-request-minimum-backoff-duration", time.Hour, "first backoff after a failed request")
	fs.DurationVar(&cfg.maxBackoff, "certificate-request-maximum-backoff-duration", 32*time.Hour, "longest backoff after failed requests")
	fs.StringVar(&cfg.solverImage, "acme-http01-solver-image", "quay.io/jetstack/cert-manager-acmesolver:"+util.AppVersion, "image of HTTP-01 solver pods")
	logf.AddFlags(&cfg.logging, fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if cfg.kubeconfig == "" {
		return nil, errors.New("--kubeconfig is required (the lab always runs out of cluster)")
	}
	if len(cfg.dns01Nameservers) == 0 {
		return nil, errors.New("--dns01-recursive-nameservers is required: the lab must never use the host's resolvers")
	}
	if err := logf.ValidateAndApply(&cfg.logging); err != nil {
		return nil, fmt.Errorf("invalid logging flags: %w", err)
	}
	return cfg, nil
}

// enabledControllers resolves '*', 'name' and '-name' entries of --controllers
// against the controllers registered by the imports above.
func enabledControllers(cfg *labConfig) sets.Set[string] {
	enabled := sets.New[string]()
	var disabled []string
	for _, name := range cfg.controllers {
		switch {
		case name == "*":
			for known := range controller.Known() {
				enabled.Insert(known)
			}
		case strings.HasPrefix(name, "-"):
			disabled = append(disabled, strings.TrimPrefix(name, "-"))
		default:
			enabled.Insert(name)
		}
	}
	if enabled.Len() == 0 && len(disabled) > 0 {
		for known := range controller.Known() {
			enabled.Insert(known)
		}
	}
	if cfg.namespace != "" {
		enabled.Delete("clusterissuers")
	}
	return enabled.Delete(disabled...)
}

// contextOptions maps the lab configuration onto the options of
// cert-manager's controller context factory, with cert-manager's defaults for
// the HTTP-01 solver pod resources, API rate limits and ingress-shim.
func contextOptions(cfg *labConfig) (controller.ContextOptions, error) {
	acme := controller.ACMEOptions{
		HTTP01SolverImage:            cfg.solverImage,
		ACMEHTTP01SolverRunAsNonRoot: true,
		HTTP01SolverNameservers:      cfg.http01Nameservers,
		DNS01Nameservers:             cfg.dns01Nameservers,
		DNS01CheckRetryPeriod:        cfg.checkRetryPeriod,
		DNS01CheckAuthoritative:      !cfg.dns01NameserversOnly,
	}
	quantities := []struct {
		value string
		into  *resource.Quantity
	}{
		{"10m", &acme.HTTP01SolverResourceRequestCPU},
		{"64Mi", &acme.HTTP01SolverResourceRequestMemory},
		{"100m", &acme.HTTP01SolverResourceLimitsCPU},
		{"64Mi", &acme.HTTP01SolverResourceLimitsMemory},
	}
	for _, q := range quantities {
		parsed, err := resource.ParseQuantity(q.value)
		if err != nil {
			return controller.ContextOptions{}, fmt.Errorf("solver resource quantity %q: %w", q.value, err)
		}
		*q.into = parsed
	}
	return controller.ContextOptions{
		Kubeconfig:         cfg.kubeconfig,
		KubernetesAPIQPS:   20,
		KubernetesAPIBurst: 50,
		Namespace:          cfg.namespace,
		ACMEOptions:        acme,
		SchedulerOptions:   controller.SchedulerOptions{MaxConcurrentChallenges: cfg.maxConcurrentChallenges},
		IssuerOptions: controller.IssuerOptions{
			ClusterResourceNamespace: cfg.clusterResourceNamespace,
		},
		IngressShimOptions: controller.IngressShimOptions{
			DefaultIssuerKind:                 "Issuer",
			DefaultIssuerGroup:                "cert-manager.io",
			DefaultAutoCertificateAnnotations: []string{"kubernetes.io/tls-acme"},
		},
		CertificateOptions: controller.CertificateOptions{
			CopiedAnnotationPrefixes:                 []string{"*", "-kubectl.kubernetes.io/", "-fluxcd.io/", "-argocd.argoproj.io/"},
			CertificateRequestMinimumBackoffDuration: cfg.minBackoff,
			CertificateRequestMaximumBackoffDuration: cfg.maxBackoff,
		},
	}, nil
}

// run builds the shared controller context, starts the metrics and healthz
// servers, every enabled controller and the informers, and blocks until ctx ends.
func run(ctx context.Context, cfg *labConfig) error {
	log := logf.FromContext(ctx)
	g, ctx := errgroup.WithContext(ctx)

	opts, err := contextOptions(cfg)
	if err != nil {
		return err
	}
	factory, err := controller.NewContextFactory(ctx, opts)
	if err != nil {
		return fmt.Errorf("building the controller context factory: %w", err)
	}
	base, err := factory.Build()
	if err != nil {
		return fmt.Errorf("building the controller context: %w", err)
	}
	enabled := enabledControllers(cfg)
	log.Info("enabled controllers", "controllers", sets.List(enabled))

	var lc net.ListenConfig
	metricsLn, err := lc.Listen(ctx, "tcp", cfg.metricsAddress)
	if err != nil {
		return fmt.Errorf("listening for metrics on %s: %w", cfg.metricsAddress, err)
	}
	base.Metrics.SetupACMECollector(base.SharedInformerFactory.Acme().V1().Challenges().Lister())
	base.Metrics.SetupCertificateCollector(base.SharedInformerFactory.Certmanager().V1().Certificates().Lister())
	base.Metrics.SetupIssuerCollector(base.SharedInformerFactory.Certmanager().V1().Issuers().Lister())
	metricsServer := base.Metrics.NewServer(metricsLn)
	g.Go(func() error {
		if err := metricsServer.Serve(metricsLn); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return metricsServer.Shutdown(shutdownCtx) //nolint:contextcheck // ctx is already done here
	})

	healthzLn, err := lc.Listen(ctx, "tcp", cfg.healthzAddress)
	if err != nil {
		return fmt.Errorf("listening for healthz on %s: %w", cfg.healthzAddress, err)
	}
	healthzServer := healthz.NewServer(20 * time.Second)
	g.Go(func() error { return healthzServer.Start(ctx, healthzLn) })

	known := controller.Known()
	names := make([]string, 0, len(known))
	for name := range known {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !enabled.Has(name) {
			continue
		}
		ctrl, err := known[name](factory)
		if err != nil {
			return fmt.Errorf("constructing controller %s: %w", name, err)
		}
		workers := cfg.workers
		g.Go(func() error {
			log.V(logf.InfoLevel).Info("starting controller", "controller", name)
			return ctrl.Run(workers, ctx)
		})
	}

	base.SharedInformerFactory.Start(ctx.Done())
	base.KubeSharedInformerFactory.Start(ctx.Done())
	base.HTTP01ResourceMetadataInformersFactory.Start(ctx.Done())
	log.Info("lab controller running", "metrics", metricsLn.Addr().String(), "healthz", healthzLn.Addr().String())

	err = g.Wait()
	base.HTTP01ResourceMetadataInformersFactory.Shutdown()
	base.KubeSharedInformerFactory.Shutdown()
	base.SharedInformerFactory.Shutdown()
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	log.Info("control loops exited")
	return nil
}
