package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/llmgw/llmgw/internal/audit"
	"github.com/llmgw/llmgw/internal/auth"
	"github.com/llmgw/llmgw/internal/gateway"
	"github.com/llmgw/llmgw/internal/store"
)

const manageUsage = `usage:
  llmgw tenants create NAME [--label k=v]...          create a tenant
  llmgw tenants list [--json]                          list tenants
  llmgw keys create --tenant T --name N [--team T] [--models a,b] [--expires RFC3339|30d]
                    [--role tenant_admin|read_only] [--label k=v]...
                    [--rpm N] [--tpm N] [--concurrent N]
                                                       create a key; prints it once
  llmgw keys list [--tenant T] [--team T] [--json]     list keys (never their secret)
  llmgw keys revoke ID                                 revoke a key at once
Each takes --config FILE (default $LLMGW_CONFIG, else the built-in defaults) and
works on the store that configuration names, directly: for the first keys,
before anyone holds an admin credential. Every change is in the audit log, with
the actor "cli:<user>".
`

// manage runs `llmgw tenants ...` and `llmgw keys ...`.
func manage(what string, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, manageUsage)
		return 2
	}
	verb, args := args[0], args[1:]
	// The command is checked before anything is opened: a mistyped one
	// must not create a data directory.
	switch what + " " + verb {
	case "tenants create", "tenants list", "keys create", "keys list", "keys revoke":
	default:
		fmt.Fprintf(stderr, "llmgw: unknown command %q\n%s", what+" "+verb, manageUsage)
		return 2
	}
	fs := flag.NewFlagSet(what+" "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, manageUsage) }
	path := fs.String("config", "", "configuration file (default $LLMGW_CONFIG; built-in defaults when neither is set)")
	asJSON := fs.Bool("json", false, "print JSON")
	tenant := fs.String("tenant", "", "tenant ID or name")
	team := fs.String("team", "", "team ID or name, in the tenant")
	name := fs.String("name", "", "key name, unique in the tenant")
	models := fs.String("models", "", "comma-separated models the key may use (default: every model; \"none\": none)")
	expires := fs.String("expires", "", "expiry: an RFC 3339 time or a duration such as 720h or 30d")
	role := fs.String("role", "", "tenant_admin or read_only for an admin key of the tenant")
	var lim store.Limits
	fs.Int64Var(&lim.RPM, "rpm", 0, "the key's requests per minute (default 0: no limit)")
	fs.Int64Var(&lim.TPM, "tpm", 0, "the key's tokens per minute (default 0: no limit)")
	fs.Int64Var(&lim.Concurrent, "concurrent", 0, "the key's requests in flight at once (default 0: no limit)")
	var labels labelFlag
	fs.Var(&labels, "label", "label k=v (repeatable)")
	// Flags may come before or after the positional arguments.
	var pos []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return 2
		}
		args = fs.Args()
		if len(args) > 0 {
			pos, args = append(pos, args[0]), args[1:]
		}
	}
	cfg, err := loadConfig(*path)
	if err != nil {
		printProblems(stderr, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := gateway.OpenState(ctx, cfg, nil, audit.Options{}, nil)
	if err != nil {
		fmt.Fprintln(stderr, "llmgw:", err)
		return 1
	}
	defer st.Close()
	if st.SecretGenerated {
		fmt.Fprintf(stderr, "llmgw: generated a server secret in %s; keep it: keys are hashed with it\n", st.SecretPath)
	}
	c := &cli{st: st, out: stdout, err: stderr, json: *asJSON, actor: cliActor()}
	switch what + " " + verb {
	case "tenants create":
		if len(pos) != 1 {
			return c.usage("tenants create takes one NAME")
		}
		return c.createTenant(ctx, pos[0], labels.m)
	case "tenants list":
		return c.listTenants(ctx)
	case "keys create":
		if len(pos) > 0 {
			return c.usage("keys create takes flags only")
		}
		return c.createKey(ctx, keyOptions{tenant: *tenant, team: *team, name: *name, models: *models,
			expires: *expires, role: *role, labels: labels.m, limits: lim})
	case "keys list":
		return c.listKeys(ctx, *tenant, *team)
	case "keys revoke":
		if len(pos) != 1 {
			return c.usage("keys revoke takes one key ID")
		}
		return c.revokeKey(ctx, pos[0])
	}
	return c.usage(fmt.Sprintf("unknown command %q", what+" "+verb))
}

type cli struct {
	st    *gateway.State
	out   io.Writer
	err   io.Writer
	json  bool
	actor string
}

func cliActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli"
}

func (c *cli) usage(msg string) int {
	fmt.Fprintf(c.err, "llmgw: %s\n%s", msg, manageUsage)
	return 2
}

// fail prints err; store errors are shown as the store words them, which
// never includes a key or the DSN.
func (c *cli) fail(err error) int {
	fmt.Fprintln(c.err, "llmgw:", err)
	return 1
}

func (c *cli) record(ctx context.Context, action, tenantID, target string, before, after any) {
	if err := c.st.Audit.Record(ctx, audit.Event{Actor: c.actor, Action: action, TenantID: tenantID,
		Target: target, Source: "local", Before: before, After: after}); err != nil {
		fmt.Fprintln(c.err, "llmgw: warning: the audit log could not record this change:", err)
	}
}

// tenantView and keyView are what the CLI prints and the audit log keeps:
// the admin API's field names, never a hash or a secret.
type tenantView struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Labels    map[string]string `json:"labels,omitempty"`
	CreatedAt time.Time         `json:"created_at"`
}

type keyView struct {
	ID         string            `json:"id"`
	Tenant     string            `json:"tenant"`
	Team       string            `json:"team,omitempty"`
	Name       string            `json:"name"`
	Prefix     string            `json:"prefix"`
	Models     []string          `json:"models"`
	ExpiresAt  *time.Time        `json:"expires_at,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	Role       string            `json:"role,omitempty"`
	Limits     *limitsView       `json:"limits,omitempty"`
	CreatedAt  time.Time         `json:"created_at"`
	LastUsedAt *time.Time        `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time        `json:"revoked_at,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func viewTenant(t store.Tenant) tenantView {
	return tenantView{ID: t.ID, Name: t.Name, Labels: t.Labels, CreatedAt: t.CreatedAt}
}

// limitsView shows the limited dimensions only, as the admin API does.
type limitsView struct {
	RPM        int64 `json:"rpm,omitempty"`
	TPM        int64 `json:"tpm,omitempty"`
	Concurrent int64 `json:"concurrent,omitempty"`
}

func viewKey(k store.Key) keyView {
	v := keyView{ID: k.ID, Tenant: k.TenantID, Team: k.TeamID, Name: k.Name, Prefix: k.Prefix, Models: k.Models,
		ExpiresAt: timePtr(k.ExpiresAt), Labels: k.Labels, Role: string(k.Role), CreatedAt: k.CreatedAt,
		LastUsedAt: timePtr(k.LastUsedAt), RevokedAt: timePtr(k.RevokedAt)}
	if !k.Limits.IsZero() {
		v.Limits = &limitsView{RPM: k.Limits.RPM, TPM: k.Limits.TPM, Concurrent: k.Limits.Concurrent}
	}
	return v
}

func (c *cli) printJSON(v any) int {
	enc := json.NewEncoder(c.out)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return c.fail(err)
	}
	return 0
}

func (c *cli) createTenant(ctx context.Context, name string, labels map[string]string) int {
	t, err := c.st.Store.Tenants().Create(ctx, store.Tenant{Name: name, Labels: labels})
	if err != nil {
		return c.fail(err)
	}
	c.record(ctx, "tenant.create", t.ID, t.ID, nil, viewTenant(t))
	if c.json {
		return c.printJSON(viewTenant(t))
	}
	fmt.Fprintf(c.out, "created tenant %s (%s)\n", t.Name, t.ID)
	return 0
}

func (c *cli) listTenants(ctx context.Context) int {
	var all []tenantView
	cursor := ""
	for {
		page, err := c.st.Store.Tenants().List(ctx, store.ListOptions{Limit: store.MaxLimit, Cursor: cursor})
		if err != nil {
			return c.fail(err)
		}
		for _, t := range page.Items {
			all = append(all, viewTenant(t))
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	if c.json {
		if all == nil {
			all = []tenantView{}
		}
		return c.printJSON(all)
	}
	w := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tCREATED")
	for _, t := range all {
		fmt.Fprintf(w, "%s\t%s\t%s\n", t.ID, t.Name, t.CreatedAt.Format(time.RFC3339))
	}
	w.Flush()
	return 0
}

// parseExpiry takes an RFC 3339 time or a duration from now ("720h",
// "30d").
func parseExpiry(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		if !t.After(now) {
			return time.Time{}, errors.New("--expires: the time has passed")
		}
		return t, nil
	}
	var d time.Duration
	var err error
	if n, ok := strings.CutSuffix(s, "d"); ok {
		d, err = time.ParseDuration(n + "h")
		d *= 24
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d <= 0 {
		return time.Time{}, fmt.Errorf("--expires: want an RFC 3339 time or a positive duration such as 720h or 30d; got %q", s)
	}
	return now.Add(d), nil
}

// keyOptions are the flags of keys create.
type keyOptions struct {
	tenant, team, name, models, expires, role string
	labels                                    map[string]string
	limits                                    store.Limits
}

func (c *cli) createKey(ctx context.Context, o keyOptions) int {
	if o.tenant == "" || o.name == "" {
		return c.usage("keys create needs --tenant and --name")
	}
	r := store.Role(o.role)
	if !r.Valid() {
		return c.usage(fmt.Sprintf("--role: want tenant_admin or read_only; got %q", o.role))
	}
	if err := store.CheckLimits(o.limits); err != nil {
		return c.usage("--rpm, --tpm and --concurrent must not be negative (0 means no limit)")
	}
	exp, err := parseExpiry(o.expires, time.Now())
	if err != nil {
		return c.usage(err.Error())
	}
	tn, err := c.st.Store.Tenants().Get(ctx, o.tenant)
	if err != nil {
		return c.fail(fmt.Errorf("tenant %q: %w", o.tenant, err))
	}
	k := store.Key{TenantID: tn.ID, Name: o.name, ExpiresAt: exp, Labels: o.labels, Role: r, Limits: o.limits}
	if team := o.team; team != "" {
		tm, err := c.findTeam(ctx, tn.ID, team)
		if err != nil {
			return c.fail(err)
		}
		k.TeamID = tm.ID
	}
	switch models := o.models; models {
	case "":
	case "none":
		k.Models = []string{}
	default:
		for _, m := range strings.Split(models, ",") {
			if m = strings.TrimSpace(m); m != "" {
				k.Models = append(k.Models, m)
			}
		}
	}
	secret, prefix := auth.NewKeySecret()
	sum := c.st.Hasher.Sum(secret)
	k.Hash, k.Prefix = sum[:], prefix
	k, err = c.st.Store.Keys().Create(ctx, k)
	if err != nil {
		return c.fail(err)
	}
	v := viewKey(k)
	c.record(ctx, "key.create", k.TenantID, k.ID, nil, v)
	if c.json {
		return c.printJSON(struct {
			keyView
			Key string `json:"key"`
		}{v, secret})
	}
	fmt.Fprintf(c.out, "created key %s (%s) in tenant %s\n%s\n", k.Name, k.ID, tn.Name, secret)
	fmt.Fprintln(c.err, "llmgw: the key is shown this once; store it now")
	return 0
}

func (c *cli) findTeam(ctx context.Context, tenantID, idOrName string) (store.Team, error) {
	if tm, err := c.st.Store.Teams().Get(ctx, tenantID, idOrName); err == nil {
		return tm, nil
	}
	cursor := ""
	for {
		page, err := c.st.Store.Teams().List(ctx, tenantID, store.ListOptions{Limit: store.MaxLimit, Cursor: cursor})
		if err != nil {
			return store.Team{}, err
		}
		for _, tm := range page.Items {
			if tm.Name == idOrName {
				return tm, nil
			}
		}
		if cursor = page.Next; cursor == "" {
			return store.Team{}, fmt.Errorf("team %q: %w", idOrName, store.ErrNotFound)
		}
	}
}

func (c *cli) listKeys(ctx context.Context, tenant, team string) int {
	var f store.KeyFilter
	if tenant != "" {
		tn, err := c.st.Store.Tenants().Get(ctx, tenant)
		if err != nil {
			return c.fail(fmt.Errorf("tenant %q: %w", tenant, err))
		}
		f.TenantID = tn.ID
		if team != "" {
			tm, err := c.findTeam(ctx, tn.ID, team)
			if err != nil {
				return c.fail(err)
			}
			f.TeamID = tm.ID
		}
	} else if team != "" {
		return c.usage("--team needs --tenant")
	}
	var all []keyView
	cursor := ""
	for {
		page, err := c.st.Store.Keys().List(ctx, f, store.ListOptions{Limit: store.MaxLimit, Cursor: cursor})
		if err != nil {
			return c.fail(err)
		}
		for _, k := range page.Items {
			all = append(all, viewKey(k))
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	if c.json {
		if all == nil {
			all = []keyView{}
		}
		return c.printJSON(all)
	}
	w := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tTENANT\tNAME\tPREFIX\tROLE\tSTATE")
	for _, k := range all {
		state := "active"
		switch {
		case k.RevokedAt != nil:
			state = "revoked"
		case k.ExpiresAt != nil && !k.ExpiresAt.After(time.Now()):
			state = "expired"
		}
		role := k.Role
		if role == "" {
			role = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s…\t%s\t%s\n", k.ID, k.Tenant, k.Name, k.Prefix, role, state)
	}
	w.Flush()
	return 0
}

func (c *cli) revokeKey(ctx context.Context, id string) int {
	before, err := c.st.Store.Keys().Get(ctx, id)
	if err != nil {
		return c.fail(fmt.Errorf("key %q: %w", id, err))
	}
	k, err := c.st.Store.Keys().Revoke(ctx, id)
	if err != nil {
		return c.fail(err)
	}
	c.record(ctx, "key.revoke", k.TenantID, k.ID, viewKey(before), viewKey(k))
	if c.json {
		return c.printJSON(viewKey(k))
	}
	fmt.Fprintf(c.out, "revoked key %s (%s)\n", k.Name, k.ID)
	return 0
}

// labelFlag collects repeated --label k=v.
type labelFlag struct{ m map[string]string }

func (l *labelFlag) String() string { return "" }

func (l *labelFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want k=v; got %q", s)
	}
	if l.m == nil {
		l.m = map[string]string{}
	}
	if _, dup := l.m[k]; dup {
		return fmt.Errorf("label %q given twice", k)
	}
	l.m[k] = v
	return nil
}
