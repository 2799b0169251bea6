import { describeObject } from './validate.js';
import { isNamespaced, type K8sObject } from './kustomize.js';

/* Loose views of the parts of the Kubernetes types the checks read. */
type Labels = Record<string, string>;
interface Selector {
  matchLabels?: Labels;
}
interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type?: string };
}
interface Probe {
  httpGet?: { path?: string; port?: number | string };
}
interface Container {
  name: string;
  image?: string;
  env?: { name: string; value?: string }[];
  ports?: { name?: string; containerPort: number }[];
  securityContext?: SecurityContext;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command?: string[] }; sleep?: { seconds?: number } } };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface Volume {
  name: string;
  [source: string]: unknown;
}
interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  terminationGracePeriodSeconds?: number;
  securityContext?: SecurityContext & { fsGroup?: number };
  topologySpreadConstraints?: { topologyKey: string; whenUnsatisfiable: string; labelSelector?: Selector }[];
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
}
interface Workload {
  object: K8sObject;
  replicas: number;
  labels: Labels;
  spec: PodSpec;
}
interface NetworkPeer {
  podSelector?: Selector;
  namespaceSelector?: Selector;
  ipBlock?: { cidr: string };
}
interface NetworkPolicyRule {
  ports?: { port?: number | string; protocol?: string }[];
  from?: NetworkPeer[];
  to?: NetworkPeer[];
}
interface NetworkPolicySpec {
  podSelector: Selector;
  policyTypes?: string[];
  ingress?: NetworkPolicyRule[];
  egress?: NetworkPolicyRule[];
}

/** The `serve` flags' environment variables (DESIGN.md's CLI contract plus the server's extras). */
export const SERVE_ENV: ReadonlySet<string> = new Set([
  'WARDEN_DATA', 'WARDEN_PORT', 'WARDEN_HOST', 'WARDEN_TOKENS', 'WARDEN_READ_AUTH', 'WARDEN_SYMLINKS', 'WARDEN_ETCD',
  'WARDEN_ADVERTISE', 'WARDEN_NODE_ID', 'WARDEN_PARTITIONS', 'WARDEN_TTL', 'WARDEN_KEEP', 'WARDEN_ALLOW_SERVICE_ACCOUNT_TOKEN',
  'WARDEN_MAX_UPLOAD', 'WARDEN_LOG_LEVEL', 'WARDEN_DRAIN_TIMEOUT',
]);

/** Options of {@link checkHardening}. */
export interface HardeningOptions {
  /** Name of Warden's workload. Default `warden`. */
  wardenName?: string;
  /** The environment variables `warden serve` reads (from `warden serve --help`). Default {@link SERVE_ENV}. */
  serveEnv?: ReadonlySet<string>;
}

/** The drain time `warden serve` uses when WARDEN_DRAIN_TIMEOUT is not set, in seconds. */
const DEFAULT_DRAIN_S = 30;
/** Time left after preStop and draining to resign partitions and close the etcd session, in seconds. */
const RESIGN_MARGIN_S = 10;

function preStopSeconds(container: Container): number {
  const preStop = container.lifecycle?.preStop;
  if (preStop?.sleep?.seconds !== undefined) return preStop.sleep.seconds;
  const command = preStop?.exec?.command ?? [];
  const sleep = command.findIndex((arg) => /(^|\/)sleep$/.test(arg));
  return sleep === -1 ? 0 : Number(command[sleep + 1] ?? 0);
}

const RBAC_KINDS = new Set(['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding']);
const DNS_PORT = 53;
const ETCD_CLIENT_PORT = 2379;
/** Volume sources that are not storage: fine inline. Any other storage must come through a PVC. */
const EPHEMERAL_SOURCES = new Set(['emptyDir', 'secret', 'configMap', 'downwardAPI', 'projected', 'persistentVolumeClaim']);

function selects(selector: Selector | undefined, labels: Labels): boolean {
  const wanted = selector?.matchLabels ?? {};
  return Object.entries(wanted).every(([key, value]) => labels[key] === value);
}

/** Lists the workloads (objects with a pod template) of a rendering. */
export function workloads(objects: readonly K8sObject[]): Workload[] {
  return objects.flatMap((object) => {
    const spec = object.spec as { replicas?: number; template?: { metadata?: { labels?: Labels }; spec?: PodSpec } } | undefined;
    if (spec?.template?.spec === undefined) return [];
    return [{ object, replicas: spec.replicas ?? 1, labels: spec.template.metadata?.labels ?? {}, spec: spec.template.spec }];
  });
}

function imagePinned(image: string | undefined): boolean {
  if (image === undefined) return false;
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const tag = image.slice(image.lastIndexOf('/') + 1).split(':')[1];
  return tag !== undefined && tag !== 'latest' && /\d+\.\d+/.test(tag);
}

function checkContainer(where: string, container: Container, pod: PodSpec, problems: string[]): void {
  const at = `${where} container ${container.name}`;
  const sc = container.securityContext ?? {};
  const podSc = pod.securityContext ?? {};
  if (sc.readOnlyRootFilesystem !== true) problems.push(`${at}: readOnlyRootFilesystem must be true`);
  if (sc.allowPrivilegeEscalation !== false) problems.push(`${at}: allowPrivilegeEscalation must be false`);
  if (sc.privileged === true) problems.push(`${at}: must not be privileged`);
  if (!(sc.capabilities?.drop ?? []).includes('ALL')) problems.push(`${at}: capabilities must drop ALL`);
  if ((sc.capabilities?.add ?? []).length > 0) problems.push(`${at}: must add no capabilities`);
  if ((sc.runAsNonRoot ?? podSc.runAsNonRoot) !== true) problems.push(`${at}: runAsNonRoot must be true`);
  const uid = sc.runAsUser ?? podSc.runAsUser;
  const gid = sc.runAsGroup ?? podSc.runAsGroup;
  if (uid === undefined || uid <= 10000) problems.push(`${at}: runAsUser must be set above 10000 (is ${uid})`);
  if (gid === undefined || gid <= 10000) problems.push(`${at}: runAsGroup must be set above 10000 (is ${gid})`);
  if ((sc.seccompProfile?.type ?? podSc.seccompProfile?.type) !== 'RuntimeDefault') problems.push(`${at}: seccompProfile must be RuntimeDefault`);
  if (!imagePinned(container.image)) problems.push(`${at}: image ${container.image} must be pinned to a version tag or digest`);
  const { requests = {}, limits = {} } = container.resources ?? {};
  if (requests.cpu === undefined || requests.memory === undefined) problems.push(`${at}: needs cpu and memory requests`);
  if (limits.memory === undefined) problems.push(`${at}: needs a memory limit`);
  if (container.livenessProbe === undefined) problems.push(`${at}: needs a liveness probe`);
  if (container.readinessProbe === undefined) problems.push(`${at}: needs a readiness probe`);
  const defined = new Set<string>();
  for (const variable of container.env ?? []) {
    for (const match of (variable.value ?? '').matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) {
      if (!defined.has(match[1]!)) problems.push(`${at}: env ${variable.name} uses $(${match[1]}) before it is defined`);
    }
    defined.add(variable.name);
  }
}

function checkPod(objects: readonly K8sObject[], workload: Workload, problems: string[]): void {
  const where = describeObject(workload.object);
  const pod = workload.spec;
  if (pod.automountServiceAccountToken !== false) problems.push(`${where}: pod spec must set automountServiceAccountToken: false`);
  const account = objects.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === pod.serviceAccountName);
  if (pod.serviceAccountName === undefined || pod.serviceAccountName === 'default' || account === undefined) {
    problems.push(`${where}: must use its own ServiceAccount from these manifests (is ${pod.serviceAccountName ?? 'default'})`);
  }
  if (pod.hostNetwork === true || pod.hostPID === true || pod.hostIPC === true) problems.push(`${where}: must not share host namespaces`);
  const spread = (pod.topologySpreadConstraints ?? []).find((c) => c.topologyKey === 'topology.kubernetes.io/zone');
  if (spread === undefined || spread.whenUnsatisfiable !== 'DoNotSchedule' || !selects(spread.labelSelector, workload.labels) || Object.keys(spread.labelSelector?.matchLabels ?? {}).length === 0) {
    problems.push(`${where}: needs a DoNotSchedule topologySpreadConstraint on topology.kubernetes.io/zone selecting its own pods`);
  }
  for (const volume of pod.volumes ?? []) {
    const sources = Object.keys(volume).filter((key) => key !== 'name');
    for (const source of sources) {
      if (!EPHEMERAL_SOURCES.has(source)) problems.push(`${where}: volume ${volume.name} is an inline ${source}; mount storage through a PersistentVolumeClaim`);
    }
    const projected = volume.projected as { sources?: Record<string, unknown>[] } | undefined;
    if ((projected?.sources ?? []).some((s) => 'serviceAccountToken' in s)) problems.push(`${where}: volume ${volume.name} projects a service-account token`);
    const claim = (volume.persistentVolumeClaim as { claimName?: string } | undefined)?.claimName;
    if (claim !== undefined && !objects.some((o) => o.kind === 'PersistentVolumeClaim' && o.metadata.name === claim)) {
      problems.push(`${where}: volume ${volume.name} claims ${claim}, which these manifests do not define`);
    }
  }
  for (const container of [...(pod.initContainers ?? []), ...pod.containers]) checkContainer(where, container, pod, problems);
  if (workload.replicas > 1) {
    const pdb = objects.find((o) => o.kind === 'PodDisruptionBudget' && selects((o.spec as { selector?: Selector }).selector, workload.labels));
    if (pdb === undefined) problems.push(`${where}: ${workload.replicas} replicas need a PodDisruptionBudget`);
    else if ((pdb.spec as { maxUnavailable?: number }).maxUnavailable !== 1) problems.push(`${describeObject(pdb)}: maxUnavailable must be 1`);
  }
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy' && selects((o.spec as NetworkPolicySpec).podSelector, workload.labels));
  const types = new Set(policies.flatMap((p) => (p.spec as NetworkPolicySpec).policyTypes ?? []));
  if (!types.has('Ingress') || !types.has('Egress')) problems.push(`${where}: needs NetworkPolicies restricting both ingress and egress`);
}

function isDnsPeer(peer: NetworkPeer): boolean {
  return peer.podSelector?.matchLabels?.['k8s-app'] === 'kube-dns' && peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'kube-system';
}

/**
 * Checks Warden's own pods' network policies: ingress only on the HTTP port; egress only to
 * DNS (kube-dns, port 53), etcd (port 2379, etcd pods or a bounded address range) and other
 * Warden pods on the HTTP port (writes are forwarded to partition leaders).
 */
function checkWardenNetwork(objects: readonly K8sObject[], warden: Workload, problems: string[]): void {
  const container = warden.spec.containers.find((c) => c.name === 'warden');
  const httpPort = container?.ports?.find((p) => p.name === 'http')?.containerPort;
  const policies = objects.filter((o) => o.kind === 'NetworkPolicy' && selects((o.spec as NetworkPolicySpec).podSelector, warden.labels));
  for (const policy of policies) {
    const spec = policy.spec as NetworkPolicySpec;
    const at = describeObject(policy);
    for (const rule of spec.ingress ?? []) {
      const ports = rule.ports ?? [];
      if (ports.length === 0 || ports.some((p) => p.port !== httpPort && p.port !== 'http')) problems.push(`${at}: ingress must be limited to the HTTP port ${httpPort}`);
    }
    for (const rule of spec.egress ?? []) {
      const ports = rule.ports ?? [];
      const peers = rule.to ?? [];
      if (ports.length === 0 || peers.length === 0) {
        problems.push(`${at}: every egress rule must name its ports and destinations`);
        continue;
      }
      for (const port of ports) {
        const ok =
          (port.port === DNS_PORT && peers.every(isDnsPeer)) ||
          (port.port === ETCD_CLIENT_PORT &&
            peers.every((peer) => peer.podSelector?.matchLabels?.['app.kubernetes.io/name'] === 'etcd' || (peer.ipBlock !== undefined && !/\/(0|[1-7])$/.test(peer.ipBlock.cidr)))) ||
          (port.port === httpPort && peers.every((peer) => peer.ipBlock === undefined && peer.namespaceSelector === undefined && selects(peer.podSelector, warden.labels)));
        if (!ok) problems.push(`${at}: egress to port ${port.port} of ${JSON.stringify(peers)} is neither DNS, etcd nor a Warden peer`);
      }
    }
  }
}

/**
 * Checks a rendering against the deployment's security rules and returns one message per
 * violation (empty when all hold): no RBAC, no service-account token anywhere, restricted
 * security contexts, probes, resources, pinned images, zone spread, PDBs, PVC-only storage,
 * network policies, namespaces. `wardenName` names Warden's workload.
 */
export function checkHardening(objects: readonly K8sObject[], options: HardeningOptions = {}): string[] {
  const { wardenName = 'warden', serveEnv = SERVE_ENV } = options;
  const problems: string[] = [];
  for (const object of objects) {
    if (RBAC_KINDS.has(object.kind)) problems.push(`${describeObject(object)}: no RBAC objects: Warden never calls the Kubernetes API`);
    if (object.kind === 'ServiceAccount' && object.automountServiceAccountToken !== false) {
      problems.push(`${describeObject(object)}: must set automountServiceAccountToken: false`);
    }
    if (object.kind === 'Secret' && object.type === 'kubernetes.io/service-account-token') problems.push(`${describeObject(object)}: no service-account token Secrets`);
    if (isNamespaced(object.kind) && object.metadata.namespace === undefined) problems.push(`${describeObject(object)}: has no namespace`);
  }
  const namespaces = objects.filter((o) => o.kind === 'Namespace');
  for (const ns of namespaces) {
    if (ns.metadata.labels?.['pod-security.kubernetes.io/enforce'] !== 'restricted') problems.push(`${describeObject(ns)}: must enforce the restricted pod security standard`);
  }
  for (const object of objects) {
    if (isNamespaced(object.kind) && object.metadata.namespace !== undefined && !namespaces.some((ns) => ns.metadata.name === object.metadata.namespace)) {
      problems.push(`${describeObject(object)}: namespace ${object.metadata.namespace} is not defined here`);
    }
  }
  const all = workloads(objects);
  for (const workload of all) checkPod(objects, workload, problems);
  const warden = all.find((w) => w.object.metadata.name === wardenName);
  if (warden === undefined) {
    problems.push(`no workload named ${wardenName}`);
    return problems;
  }
  const container = warden.spec.containers.find((c) => c.name === 'warden');
  if (container === undefined) {
    problems.push(`${describeObject(warden.object)}: no container named warden`);
    return problems;
  }
  if (container.livenessProbe?.httpGet?.path !== '/healthz') problems.push('warden: liveness probe must GET /healthz');
  if (container.readinessProbe?.httpGet?.path !== '/readyz') problems.push('warden: readiness probe must GET /readyz');
  const tmp = (container.volumeMounts ?? []).find((m) => m.mountPath === '/tmp');
  if (tmp === undefined || (warden.spec.volumes ?? []).find((v) => v.name === tmp.name)?.emptyDir === undefined) {
    problems.push('warden: a read-only root needs an emptyDir at /tmp');
  }
  const preStop = container.lifecycle?.preStop;
  if (preStop === undefined) problems.push('warden: needs a preStop hook so the pod leaves the Service before SIGTERM');
  const env = new Map((container.env ?? []).map((v) => [v.name, v.value]));
  const drain = Number(env.get('WARDEN_DRAIN_TIMEOUT') ?? DEFAULT_DRAIN_S);
  const needed = preStopSeconds(container) + drain + RESIGN_MARGIN_S;
  const grace = warden.spec.terminationGracePeriodSeconds ?? 30;
  if (grace < needed) {
    problems.push(`warden: terminationGracePeriodSeconds ${grace} < preStop + drain (${drain} s) + ${RESIGN_MARGIN_S} s to resign = ${needed}`);
  }
  for (const variable of container.env ?? []) {
    if (variable.name === 'WARDEN_ALLOW_SERVICE_ACCOUNT_TOKEN') problems.push('warden: must not set WARDEN_ALLOW_SERVICE_ACCOUNT_TOKEN');
    else if (variable.name.startsWith('WARDEN_') && !serveEnv.has(variable.name)) problems.push(`warden: ${variable.name} is not a serve flag`);
  }
  const tokens = env.get('WARDEN_TOKENS');
  const secretVolumes = new Set((warden.spec.volumes ?? []).filter((v) => v.secret !== undefined).map((v) => v.name));
  if (tokens === undefined || !(container.volumeMounts ?? []).some((m) => secretVolumes.has(m.name) && tokens.startsWith(`${m.mountPath}/`))) {
    problems.push('warden: WARDEN_TOKENS must name a file in a mounted Secret');
  }
  const data = env.get('WARDEN_DATA');
  const dataMount = (container.volumeMounts ?? []).find((m) => m.mountPath === data);
  const dataVolume = (warden.spec.volumes ?? []).find((v) => v.name === dataMount?.name);
  if (dataVolume?.persistentVolumeClaim === undefined) problems.push('warden: WARDEN_DATA must be a mounted PersistentVolumeClaim');
  checkWardenNetwork(objects, warden, problems);
  return problems;
}
