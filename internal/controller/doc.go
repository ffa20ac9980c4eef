// Package controller discovers what the gateway routes over from Kubernetes
// and publishes it as a [config.Catalog]: the InferencePools it serves (by
// name and/or label selector), their Pods, and the InferenceObjectives and
// InferenceModelRewrites that refer to them, all in one namespace. The
// gateway turns each catalog into pool stores and routing tables exactly as
// it does for a static config file.
//
// # Catalog
//
// Each served pool becomes a [config.Pool] named after the InferencePool.
// Every Pod of the namespace that carries all of the pool's matchLabels, is
// Ready, has a Pod IP and is not being deleted contributes one endpoint per
// active target port: address podIP:port, name "<pod>-rank-<i>" for the
// i-th target port (a data-parallel rank, named as upstream does). The
// active ports are those listed by the Pod annotation
// [ActivePortsAnnotation] (llm-d), else [ActivePortsAnnotationGIE], else
// all. The engine is the first known one among the Pod label
// [EngineTypeLabel] (llm-d), the Pod label [EngineTypeLabelGIE], the Pod
// annotation [EngineAnnotation], the pool's [EngineAnnotation], and vLLM.
// Pools being deleted are not served.
//
// # Two API groups
//
// InferenceObjective and InferenceModelRewrite are read from llm-d.ai/
// v1alpha2 (llm-d router v0.10) and from inference.networking.x-k8s.io/
// v1alpha2 (GIE v1.5), whichever the API server serves and the gateway may
// list and watch. They are merged per object: where both groups hold an
// object of the same name, the llm-d.ai one counts and the older one gets a
// Warning Event (reason [ReasonShadowed]); every other object counts
// whatever its group. Upstream instead ignores the whole older group once
// the llm-d.ai CRDs exist.
//
// An InferenceObjective whose poolRef names a served pool is a
// [config.Objective] (unset priority: 0). Every exact match of an
// InferenceModelRewrite rule for a served pool is a [config.Model] with the
// rule's targets (weights as given when every target has one, else 1 each);
// a rule without matches is the pool's catch-all model (empty name). When
// several rules claim a model name of a pool, the oldest object
// (creationTimestamp, then name) wins, then its first rule.
//
// Every change to one of these objects or Pods causes a rebuild; bursts
// coalesce, a catalog equal to the last one is not published again, and a
// slow publish function only ever receives the latest catalog.
//
// # Status
//
// The status writer (see below) keeps one entry of each served pool's
// status.parents: parentRef {group [ParentGroup], kind [ParentKind], name
// Options.ParentName}, controllerName [ControllerName], conditions
// Accepted=True and ResolvedRefs=True, or False with reason
// [ReasonNoReadyEndpoints] while the pool has no endpoint. Entries of other
// controllers are never changed (status is shared), and the entry is
// removed from pools the controller no longer serves. Writes go to the
// status subresource with an optimistic lock and are retried on conflict.
//
// # High availability
//
// Every replica discovers and publishes (active-active); only status writes
// are gated on a Lease when Options.LeaderElection is set. Losing the lease
// ends the replica's term as status writer and it campaigns again; losing
// the API server keeps the last catalog (the caches are not emptied), and
// discovery resumes when the server is back. Nothing here exits the
// process.
//
// Until the API server answers and the InferencePool CRD is installed, the
// caches do not sync and no catalog is published ([Controller.Synced] stays
// open); the controller keeps retrying. The InferenceObjective and
// InferenceModelRewrite CRDs of both groups are optional: [Controller.Run]
// asks the API server whether it serves them and whether the gateway may
// list and watch them, and watches only those (a CRD installed or a
// permission granted later is picked up after a restart, as the log says).
//
// # RBAC
//
// In the namespace: get, list and watch on pods, inferencepools
// (inference.networking.k8s.io), inferenceobjectives and
// inferencemodelrewrites (llm-d.ai and inference.networking.x-k8s.io);
// patch on inferencepools/status; create and patch on events (the
// deprecation Events); with leader election, get, create and update on
// leases (coordination.k8s.io).
//
// # Logging
//
// Logs go to Options.Logger, and so do controller-runtime's and client-go's
// through a logr bridge. controller-runtime's package-level loggers get the
// logger of the first Controller built in the process.
package controller
