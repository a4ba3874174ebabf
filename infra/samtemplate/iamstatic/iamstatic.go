// Package iamstatic derives, from each Lambda function's own code, the IAM
// actions and resources it needs, so that a test can hold them against the
// function's policy in template.yaml both ways: a call that can be made but
// is not granted (it would fail on AWS, where the emulators of the local
// stack enforce no IAM), and a grant that no reachable code uses (least
// privilege).
//
// # Method
//
// [Load] loads every function's main package (functions/<dir>) and all it
// imports once, with golang.org/x/tools/go/packages, as the Makefile builds
// a bootstrap (-tags lambda.norpc, linux/arm64), and builds the whole
// program in SSA form (go/ssa). [Program.Analyse] then, per function:
//
//  1. takes as roots main, the package initialisers and the handler main
//     gives to lambda.Start* (the runtime calls it through
//     reflect.Value.Call, an edge no call graph has; the handler value is
//     resolved to its functions through the calls that build it, and
//     failing to resolve it is an error); builds the call graph with Rapid
//     Type Analysis (go/callgraph/rta), refines it with Variable Type
//     Analysis (go/callgraph/vta) over the functions RTA found reachable,
//     and takes the functions reachable from the roots in the refined
//     graph. Measured on this repository (TestCompareAlgorithms): CHA
//     ignores reachability, so every function reaches ~18,900 functions and
//     every operation of the store and SES; RTA alone reaches 14,000-16,000
//     and still over-approximates (a call of a func value goes to every
//     address-taken function of its type: AccessDecisionFunction would need
//     PutItem and Query, AcceptInvitationFunction, InviteGuestsFunction and
//     VerifyFunction a table Query they never make); VTA, which follows
//     which types and functions flow to each call site, reaches
//     7,000-11,000 and derives exactly what the functions do.
//  2. records every call edge into a method of an aws-sdk-go-v2 service
//     client (*dynamodb.Client, *ses.Client, *sesv2.Client, *sqs.Client, any
//     package under github.com/aws/aws-sdk-go-v2/service/): static calls
//     and calls through interfaces (sqsqueue's API) alike.
//  3. finds, in the reachable functions outside the SDK (whose own code
//     builds these types only from responses or as copies of the caller's
//     input), the kinds of transaction item constructed (stores to the Put,
//     Update, Delete or ConditionCheck field of a types.TransactWriteItem,
//     as composite literals compile to), and the indexes named by the
//     QueryInput and ScanInput values built (stores to IndexName, resolved
//     to string constants through aws.String or a local's address); an
//     input value allocated without an IndexName stored in the block that
//     allocates it may read the table.
//  4. records the environment variables read with constant names
//     (os.Getenv, os.LookupEnv), which tie a queue client to the queue the
//     template names in that variable.
//
// [Needs] turns that into IAM actions on template resources
// (see [samtemplate.PolicyStatement.Resources] for the form):
//
//   - DynamoDB: each operation is its own action on the table the
//     function's TABLE_NAME names ("${Table.Arn}"), except: Query and Scan
//     are on "${Table.Arn}/index/<name>" for each index named and on the
//     table when an input without an index exists; TransactWriteItems is
//     PutItem, UpdateItem, DeleteItem and ConditionCheckItem, one for each
//     kind of item constructed (IAM has no TransactWriteItems action);
//     TransactGetItems is GetItem. BatchWriteItem is dynamodb:BatchWriteItem,
//     as the Service Authorization Reference maps it (not its items'
//     PutItem/DeleteItem).
//   - SES (v1 and v2): ses:<Operation> on "*"; the identity comes from
//     configuration, so the statement granting it must keep a
//     ses:FromAddress condition (checked by [Compare]).
//   - SQS: sqs:<Operation> with the Batch suffix dropped (SendMessageBatch
//     is authorised by sqs:SendMessage) on "${Q.Arn}" for each queue Q
//     whose URL reaches the function in an environment variable the code
//     reads.
//
// # Limits, and how they fail
//
// The analysis sees what flows through Go code: calls made by reflection
// (reflect.Value.Call, MethodByName) have no edge, and an SDK method
// reached only that way is not seen (apart from the Lambda handler, handled
// above, neither the SDK nor this code makes one). The SDK's own
// DescribeEndpoints (endpoint discovery, off unless a client enables it;
// enabling it is reported) is not counted. Every DynamoDB call is taken to
// name the table of the function's TABLE_NAME, as the store does; a table
// name built otherwise is not seen. Conditions on a path are not: a
// transaction item built only when an argument is set counts even where
// every caller leaves it unset (DomainCheckFunction's ConditionCheckItem). A
// call through an interface whose method names a client operation and
// that the call graph resolves to nothing is reported as a problem, as are:
// an IndexName that is not a constant (a dynamic index name), a
// TransactWriteItems reachable with no item kind constructed, a queue
// client with no queue variable read, a client of a service with no rule
// above, and a DynamoDB client method with no table in TABLE_NAME.
// Problems fail the test rather than pass silently. Item kinds and
// indexes are collected per function, not per call site: a function that
// builds a Delete item for one transaction is taken to need DeleteItem even
// if that item only ever reaches a code path with no TransactWriteItems;
// this can only ask for more than needed, which the test reports as a
// missing grant for a person to look at, never as a silent pass.
package iamstatic

import (
	"fmt"
	"go/constant"
	"go/token"
	"go/types"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"golang.org/x/tools/go/callgraph"
	"golang.org/x/tools/go/callgraph/cha"
	"golang.org/x/tools/go/callgraph/rta"
	"golang.org/x/tools/go/callgraph/vta"
	"golang.org/x/tools/go/packages"
	"golang.org/x/tools/go/ssa"
	"golang.org/x/tools/go/ssa/ssautil"
)

// sdkService is the import path prefix of the SDK's service clients.
const sdkService = "github.com/aws/aws-sdk-go-v2/service/"

// Program is every function's code, loaded and built once.
type Program struct {
	prog  *ssa.Program
	mains map[string]*ssa.Package // dir under functions/ -> main package
	cha   *callgraph.Graph        // built on first use
	// LoadTime is how long loading and building took.
	LoadTime time.Duration
}

// Load loads the main packages of the functions in dirs (folder names
// under root/functions) and everything they import, and builds them in SSA
// form. It fails on any load or type error.
func Load(root string, dirs []string) (*Program, error) {
	start := time.Now()
	// As the Makefile builds a bootstrap: with lambda.norpc (the runtime
	// calls the handler directly rather than through net/rpc's reflection)
	// for linux/arm64.
	cfg := &packages.Config{Mode: packages.LoadAllSyntax, Dir: root, Tests: false,
		BuildFlags: []string{"-tags=lambda.norpc"},
		Env:        append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")}
	patterns := make([]string, len(dirs))
	for i, d := range dirs {
		patterns[i] = "./functions/" + d
	}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		return nil, fmt.Errorf("iamstatic: load: %w", err)
	}
	var errs []string
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			errs = append(errs, e.Error())
		}
	})
	if len(errs) > 0 {
		return nil, fmt.Errorf("iamstatic: load: %s", strings.Join(errs, "; "))
	}
	prog, ssaPkgs := ssautil.AllPackages(pkgs, ssa.InstantiateGenerics)
	prog.Build()
	p := &Program{prog: prog, mains: map[string]*ssa.Package{}}
	for i, pkg := range pkgs {
		if ssaPkgs[i] == nil || ssaPkgs[i].Pkg.Name() != "main" {
			return nil, fmt.Errorf("iamstatic: %s is not a main package", pkg.PkgPath)
		}
		p.mains[dirs[i]] = ssaPkgs[i]
	}
	if len(p.mains) != len(dirs) {
		return nil, fmt.Errorf("iamstatic: loaded %d main packages for %d functions", len(p.mains), len(dirs))
	}
	p.LoadTime = time.Since(start)
	return p, nil
}

// Algorithm is a call graph construction.
type Algorithm string

// The algorithms [Program.Analyse] can use; [VTA] is the one the test
// relies on (the others are there to measure it against).
const (
	CHA Algorithm = "cha" // class hierarchy: every method of every type that fits, reachable or not
	RTA Algorithm = "rta" // rapid type analysis from main
	VTA Algorithm = "vta" // variable type analysis over RTA's reachable functions
)

// Analysis is what one function's reachable code does with the SDK.
type Analysis struct {
	Dir string
	// Reachable is the number of functions reachable from main.
	Reachable int
	// Calls are the SDK client methods reachable, as "dynamodb.Query",
	// "sqs.SendMessageBatch", each with one call site (for messages).
	Calls map[string]string
	// TxKinds are the TransactWriteItem fields stored ("Put", "Update",
	// "Delete", "ConditionCheck"), each with one site.
	TxKinds map[string]string
	// Indexes are the index names stored in a Query or Scan input, by
	// operation ("Query" -> "GSI1" -> site).
	Indexes map[string]map[string]string
	// OnTable are the operations (Query, Scan) with an input allocated
	// without an index, each with one site.
	OnTable map[string]string
	// Env are the environment variables read by constant name.
	Env map[string]bool
	// Problems are what the analysis could not resolve: each must fail.
	Problems []string
	// Took is how long the analysis of this function took.
	Took time.Duration
}

// Analyse derives one function's SDK use (dir as given to [Load]).
func (p *Program) Analyse(dir string, algo Algorithm) (*Analysis, error) {
	start := time.Now()
	pkg := p.mains[dir]
	if pkg == nil {
		return nil, fmt.Errorf("iamstatic: %s was not loaded", dir)
	}
	main := pkg.Func("main")
	if main == nil {
		return nil, fmt.Errorf("iamstatic: functions/%s has no func main", dir)
	}
	roots := []*ssa.Function{main}
	if init := pkg.Func("init"); init != nil {
		roots = append(roots, init)
	}
	handlers, err := p.handlers(main)
	if err != nil {
		return nil, fmt.Errorf("iamstatic: functions/%s: %w", dir, err)
	}
	roots = append(roots, handlers...)
	var g *callgraph.Graph
	switch algo {
	case CHA:
		if p.cha == nil {
			p.cha = cha.CallGraph(p.prog)
		}
		g = p.cha
	case RTA, VTA:
		g = rta.Analyze(roots, true).CallGraph
		if algo == VTA {
			g = vta.CallGraph(reachable(g, roots), g)
		}
	default:
		return nil, fmt.Errorf("iamstatic: unknown algorithm %q", algo)
	}
	fns := reachable(g, roots)
	a := &Analysis{Dir: dir, Reachable: len(fns), Calls: map[string]string{}, TxKinds: map[string]string{},
		Indexes: map[string]map[string]string{}, OnTable: map[string]string{}, Env: map[string]bool{}}
	for fn := range fns {
		if n := g.Nodes[fn]; n != nil {
			for _, e := range n.Out {
				if op, ok := sdkOperation(e.Callee.Func); ok {
					if internalDiscovery(op, fn) {
						continue
					}
					if _, seen := a.Calls[op]; !seen {
						a.Calls[op] = p.pos(e.Site.Pos()) + " in " + fn.String()
					}
				}
			}
		}
		a.scan(p, fn, g.Nodes[fn])
	}
	sort.Strings(a.Problems)
	a.Problems = slices.Compact(a.Problems)
	a.Took = time.Since(start)
	return a, nil
}

// lambdaPkg is the Lambda runtime package: its Start functions call the
// handler through reflect.Value.Call, an edge no call graph has.
const lambdaPkg = "github.com/aws/aws-lambda-go/lambda"

// handlers returns the functions main hands to the Lambda runtime (the
// first argument of every lambda.Start*, lambda.NewHandler* call), which
// the runtime calls by reflection: they are roots of the call graph beside
// main. A handler value it cannot resolve to functions is an error.
func (p *Program) handlers(main *ssa.Function) ([]*ssa.Function, error) {
	var out []*ssa.Function
	for _, b := range main.Blocks {
		for _, ins := range b.Instrs {
			call, ok := ins.(ssa.CallInstruction)
			if !ok {
				continue
			}
			callee := call.Common().StaticCallee()
			if callee == nil {
				continue
			}
			if o := callee.Origin(); o != nil {
				callee = o
			}
			if callee.Pkg == nil || callee.Pkg.Pkg.Path() != lambdaPkg || !strings.HasPrefix(callee.Name(), "Start") && !strings.HasPrefix(callee.Name(), "NewHandler") {
				continue
			}
			if len(call.Common().Args) == 0 {
				return nil, fmt.Errorf("%s: %s without a handler", p.pos(ins.Pos()), callee.Name())
			}
			fns, err := funcsOf(call.Common().Args[0], nil, 0)
			if err != nil {
				return nil, fmt.Errorf("%s: the handler given to lambda.%s: %w", p.pos(ins.Pos()), callee.Name(), err)
			}
			out = append(out, fns...)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("main starts no Lambda handler (lambda.Start*)")
	}
	return out, nil
}

// frame binds a called function's parameters to its call's arguments.
type frame map[*ssa.Parameter]arg

// arg is an argument value in the frame of the function that passed it.
type arg struct {
	v      ssa.Value
	caller frame
}

// funcsOf resolves a function value to the functions it may be: a function,
// a closure, a method value, or what a called function returns (its
// parameters bound to the call's arguments in params), through conversions
// and phis.
func funcsOf(v ssa.Value, params frame, depth int) ([]*ssa.Function, error) {
	if depth > 20 {
		return nil, fmt.Errorf("too deep")
	}
	switch v := v.(type) {
	case *ssa.Function:
		return []*ssa.Function{v}, nil
	case *ssa.MakeClosure:
		return []*ssa.Function{v.Fn.(*ssa.Function)}, nil
	case *ssa.ChangeType:
		return funcsOf(v.X, params, depth+1)
	case *ssa.Convert:
		return funcsOf(v.X, params, depth+1)
	case *ssa.MakeInterface:
		return funcsOf(v.X, params, depth+1)
	case *ssa.Parameter:
		if a, ok := params[v]; ok {
			return funcsOf(a.v, a.caller, depth+1) // the caller's value, in the caller's frame
		}
	case *ssa.UnOp: // a load of a local variable: what is stored in it
		alloc, ok := v.X.(*ssa.Alloc)
		if v.Op != token.MUL || !ok {
			break
		}
		var out []*ssa.Function
		for _, r := range *alloc.Referrers() {
			if st, ok := r.(*ssa.Store); ok && st.Addr == alloc {
				fns, err := funcsOf(st.Val, params, depth+1)
				if err != nil {
					return nil, err
				}
				out = append(out, fns...)
			}
		}
		if len(out) > 0 {
			return out, nil
		}
	case *ssa.Phi:
		var out []*ssa.Function
		for _, e := range v.Edges {
			fns, err := funcsOf(e, params, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, fns...)
		}
		return out, nil
	case *ssa.Call:
		f := v.Call.StaticCallee()
		if f == nil || len(f.Blocks) == 0 {
			break
		}
		bound := frame{}
		for i, p := range f.Params {
			if i < len(v.Call.Args) {
				bound[p] = arg{v.Call.Args[i], params}
			}
		}
		var out []*ssa.Function
		for _, b := range f.Blocks {
			if r, ok := b.Instrs[len(b.Instrs)-1].(*ssa.Return); ok && len(r.Results) > 0 {
				fns, err := funcsOf(r.Results[0], bound, depth+1)
				if err != nil {
					return nil, err
				}
				out = append(out, fns...)
			}
		}
		if len(out) > 0 {
			return out, nil
		}
	}
	return nil, fmt.Errorf("cannot resolve %s (%T) to functions", v, v)
}

// reachable returns the functions reachable from roots in g.
func reachable(g *callgraph.Graph, roots []*ssa.Function) map[*ssa.Function]bool {
	seen := map[*ssa.Function]bool{}
	var stack []*callgraph.Node
	for _, r := range roots {
		if n := g.Nodes[r]; n != nil && !seen[r] {
			seen[r] = true
			stack = append(stack, n)
		}
	}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, e := range n.Out {
			if f := e.Callee.Func; !seen[f] {
				seen[f] = true
				stack = append(stack, e.Callee)
			}
		}
	}
	return seen
}

func (p *Program) pos(pos token.Pos) string {
	if !pos.IsValid() {
		return "?"
	}
	ps := p.prog.Fset.Position(pos)
	file := ps.Filename
	if i := strings.Index(file, "/shared/"); i >= 0 {
		file = file[i+1:]
	} else if i := strings.Index(file, "/functions/"); i >= 0 {
		file = file[i+1:]
	} else if i := strings.Index(file, "/pkg/mod/"); i >= 0 {
		file = file[i+len("/pkg/mod/"):]
	}
	return fmt.Sprintf("%s:%d", file, ps.Line)
}

// sdkOperation reports whether fn is an exported method of a service
// client of the SDK, as "service.Method" ("dynamodb.Query").
func sdkOperation(fn *ssa.Function) (string, bool) {
	if fn == nil || fn.Signature.Recv() == nil || !token.IsExported(fn.Name()) {
		return "", false
	}
	named := namedOf(fn.Signature.Recv().Type())
	if named == nil || named.Obj().Name() != "Client" || named.Obj().Pkg() == nil {
		return "", false
	}
	path := named.Obj().Pkg().Path()
	svc, ok := strings.CutPrefix(path, sdkService)
	if !ok || strings.Contains(svc, "/") {
		return "", false
	}
	if fn.Name() == "Options" { // the client's configuration, not an operation
		return "", false
	}
	return svc + "." + fn.Name(), true
}

// internalDiscovery reports the SDK's own DescribeEndpoints call, made by
// a client with endpoint discovery enabled: DynamoDB's clients leave it
// off unless EndpointDiscovery.EnableEndpointDiscovery is set, which scan
// reports as a problem.
func internalDiscovery(op string, caller *ssa.Function) bool {
	return strings.HasSuffix(op, ".DescribeEndpoints") && caller.Pkg != nil && strings.HasPrefix(caller.Pkg.Pkg.Path(), sdkService)
}

func namedOf(t types.Type) *types.Named {
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	n, _ := types.Unalias(t).(*types.Named)
	return n
}

// isSDKType reports whether t (or what it points to) is the named type
// service/<svc>[/sub].name of the SDK.
func isSDKType(t types.Type, pkgSuffix, name string) bool {
	n := namedOf(t)
	return n != nil && n.Obj().Name() == name && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == sdkService+pkgSuffix
}

// scan records the transaction item kinds, index names, input allocations
// and environment variables of one reachable function, and the calls
// through client-like interfaces that the graph leaves unresolved.
func (a *Analysis) scan(p *Program, fn *ssa.Function, node *callgraph.Node) {
	resolved := map[ssa.CallInstruction]bool{}
	if node != nil {
		for _, e := range node.Out {
			resolved[e.Site] = true
		}
	}
	// The SDK's own code builds these types only from responses
	// (deserializers) or as copies of the caller's input (paginators): what
	// is sent is built outside it.
	inSDK := fn.Pkg != nil && strings.HasPrefix(fn.Pkg.Pkg.Path(), "github.com/aws/")
	for _, b := range fn.Blocks {
		for _, ins := range b.Instrs {
			switch ins := ins.(type) {
			case *ssa.Store:
				if inSDK {
					continue
				}
				fa, ok := ins.Addr.(*ssa.FieldAddr)
				if !ok {
					continue
				}
				st := fa.X.Type().Underlying().(*types.Pointer).Elem()
				field := st.Underlying().(*types.Struct).Field(fa.Field).Name()
				switch {
				case field == "EnableEndpointDiscovery" && (fn.Pkg == nil || !strings.HasPrefix(fn.Pkg.Pkg.Path(), "github.com/aws/")):
					a.Problems = append(a.Problems, fmt.Sprintf("%s: endpoint discovery is configured in %s: its DescribeEndpoints calls are not accounted for", p.pos(ins.Pos()), fn))
				case isSDKType(st, "dynamodb/types", "TransactWriteItem"):
					if !isNil(ins.Val) {
						if _, seen := a.TxKinds[field]; !seen {
							a.TxKinds[field] = p.pos(ins.Pos()) + " in " + fn.String()
						}
					}
				case field == "IndexName" && (isSDKType(st, "dynamodb", "QueryInput") || isSDKType(st, "dynamodb", "ScanInput")):
					op := strings.TrimSuffix(namedOf(st).Obj().Name(), "Input")
					if isNil(ins.Val) {
						a.OnTable[op] = p.pos(ins.Pos()) + " in " + fn.String() + " (IndexName set to nil)"
						continue
					}
					name, ok := constString(ins.Val)
					if !ok {
						a.Problems = append(a.Problems, fmt.Sprintf("%s: %s.IndexName is not a constant (%s) in %s", p.pos(ins.Pos()), op, ins.Val, fn))
						continue
					}
					if a.Indexes[op] == nil {
						a.Indexes[op] = map[string]string{}
					}
					if _, seen := a.Indexes[op][name]; !seen {
						a.Indexes[op][name] = p.pos(ins.Pos()) + " in " + fn.String()
					}
				}
			case *ssa.Alloc:
				if inSDK {
					continue
				}
				elem := ins.Type().Underlying().(*types.Pointer).Elem()
				for _, op := range []string{"Query", "Scan"} {
					if isSDKType(elem, "dynamodb", op+"Input") && !copied(ins) && !indexSetInBlock(ins) {
						if _, seen := a.OnTable[op]; !seen {
							a.OnTable[op] = p.pos(ins.Pos()) + " in " + fn.String()
						}
					}
				}
			case ssa.CallInstruction:
				c := ins.Common()
				if callee := c.StaticCallee(); callee != nil && callee.Pkg != nil && callee.Pkg.Pkg.Path() == "os" &&
					(callee.Name() == "Getenv" || callee.Name() == "LookupEnv") && len(c.Args) == 1 {
					if s, ok := c.Args[0].(*ssa.Const); ok && s.Value != nil && s.Value.Kind() == constant.String {
						a.Env[constant.StringVal(s.Value)] = true
					}
				}
				if c.IsInvoke() && !resolved[ins] && looksLikeClientCall(c) {
					a.Problems = append(a.Problems, fmt.Sprintf("%s: call of %s.%s through an interface that the call graph resolves to nothing, in %s",
						p.pos(ins.Pos()), c.Value.Type(), c.Method.Name(), fn))
				}
			}
		}
	}
}

// looksLikeClientCall reports an interface method that takes a pointer to
// an SDK service's input type: a client operation behind an interface.
func looksLikeClientCall(c *ssa.CallCommon) bool {
	sig := c.Method.Type().(*types.Signature)
	for i := range sig.Params().Len() {
		if n := namedOf(sig.Params().At(i).Type()); n != nil && n.Obj().Pkg() != nil &&
			strings.HasPrefix(n.Obj().Pkg().Path(), sdkService) && strings.HasSuffix(n.Obj().Name(), "Input") {
			return true
		}
	}
	return false
}

func isNil(v ssa.Value) bool {
	c, ok := v.(*ssa.Const)
	return ok && c.IsNil()
}

// constString resolves a *string value built from a constant: aws.String
// of a constant, or the address of a local holding one.
func constString(v ssa.Value) (string, bool) {
	switch v := v.(type) {
	case *ssa.Call:
		callee := v.Call.StaticCallee()
		if callee == nil || len(v.Call.Args) != 1 {
			return "", false
		}
		if callee.Pkg != nil && callee.Pkg.Pkg.Path() == "github.com/aws/aws-sdk-go-v2/aws" && callee.Name() == "String" {
			if c, ok := v.Call.Args[0].(*ssa.Const); ok && c.Value != nil && c.Value.Kind() == constant.String {
				return constant.StringVal(c.Value), true
			}
		}
	case *ssa.Alloc: // p := "GSI1"; &p (a local escaping to the heap)
		var val string
		n := 0
		for _, r := range *v.Referrers() {
			if st, ok := r.(*ssa.Store); ok && st.Addr == v {
				c, ok := st.Val.(*ssa.Const)
				if !ok || c.Value == nil || c.Value.Kind() != constant.String {
					return "", false
				}
				val, n = constant.StringVal(c.Value), n+1
			}
		}
		return val, n == 1
	}
	return "", false
}

// indexSetInBlock reports whether an IndexName other than nil is stored
// into the input allocated by alloc in the block that allocates it, so on
// every path that uses it.
func indexSetInBlock(alloc *ssa.Alloc) bool {
	for _, r := range *alloc.Referrers() {
		fa, ok := r.(*ssa.FieldAddr)
		if !ok || fa.Block() != alloc.Block() {
			continue
		}
		st := fa.X.Type().Underlying().(*types.Pointer).Elem().Underlying().(*types.Struct)
		if st.Field(fa.Field).Name() != "IndexName" {
			continue
		}
		for _, fr := range *fa.Referrers() {
			if s, ok := fr.(*ssa.Store); ok && s.Addr == fa && !isNil(s.Val) {
				return true
			}
		}
	}
	return false
}

// copied reports whether alloc is filled by copying another input value
// whole (q := *in): it then reads what its source reads, which is
// accounted for where the source is allocated.
func copied(alloc *ssa.Alloc) bool {
	for _, r := range *alloc.Referrers() {
		if s, ok := r.(*ssa.Store); ok && s.Addr == alloc {
			if u, ok := s.Val.(*ssa.UnOp); ok && u.Op == token.MUL {
				return true
			}
		}
	}
	return false
}

// AnalyseAll analyses the functions in dirs with up to workers analyses at
// once (each builds its own call graph over the shared, read-only program;
// go/ssa's method lookups are safe for concurrent use).
func (p *Program) AnalyseAll(dirs []string, algo Algorithm, workers int) (map[string]*Analysis, error) {
	type result struct {
		dir string
		a   *Analysis
		err error
	}
	work := make(chan string)
	results := make(chan result)
	for range max(1, workers) {
		go func() {
			for dir := range work {
				a, err := p.Analyse(dir, algo)
				results <- result{dir, a, err}
			}
		}()
	}
	go func() {
		for _, d := range dirs {
			work <- d
		}
		close(work)
	}()
	out := map[string]*Analysis{}
	var errs []string
	for range dirs {
		r := <-results
		if r.err != nil {
			errs = append(errs, r.err.Error())
			continue
		}
		out[r.dir] = r.a
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return nil, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return out, nil
}
