"""Reading Kubernetes and Istio YAML: documents with their file and line, checked before use."""
import ipaddress
import os
import re

import yaml

from .base import LabError

CLUSTER_SCOPED = {("", "Namespace")}
# Applied in this order whatever the order in the files, so that namespaces exist before the
# objects in them and services before the pods that serve them.
KIND_ORDER = {"Namespace": 0, "ServiceAccount": 1, "Service": 3, "Deployment": 4, "Pod": 5}
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
FIELD_PATHS = re.compile(
    r"^(metadata\.name|metadata\.namespace|metadata\.uid|spec\.nodeName|"
    r"spec\.serviceAccountName|status\.podIP|status\.hostIP|"
    r"metadata\.(labels|annotations)\[['\"]([^'\"]+)['\"]\])$")


class Doc:
    """One YAML document: its object and where it came from."""

    def __init__(self, obj, path, line, node):
        self.obj, self.path, self.line, self.node = obj, path, line, node

    @property
    def group(self):
        api = str(self.obj.get("apiVersion", ""))
        return api.rsplit("/", 1)[0] if "/" in api else ""

    @property
    def kind(self):
        return str(self.obj.get("kind", ""))

    @property
    def name(self):
        return self.obj["metadata"]["name"]

    @property
    def namespace(self):
        return self.obj["metadata"].get("namespace")

    @property
    def key(self):
        return object_key(self.obj)

    def where(self, *field):
        """'file:line' of a field of this document (of the document when not found)."""
        return f"{self.path}:{field_line(self.node, field) or self.line}"

    def display(self):
        return display_name(self.obj)


def object_key(obj):
    """'Kind.group/namespace/name', the identity of an object in the lab."""
    api = str(obj.get("apiVersion", ""))
    group = api.rsplit("/", 1)[0] if "/" in api else ""
    ns = obj.get("metadata", {}).get("namespace") or ""
    return f"{obj.get('kind')}.{group}/{ns}/{obj['metadata']['name']}"


def display_name(obj):
    api = str(obj.get("apiVersion", ""))
    group = api.rsplit("/", 1)[0] if "/" in api else ""
    kind = str(obj.get("kind", "")).lower()
    return f"{kind}{'.' + group if group else ''}/{obj['metadata']['name']}"


def field_line(node, field):
    for part in field:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            node = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if part < len(node.value) else None
        else:
            node = None
        if node is None:
            return None
    return node.start_mark.line + 1


def manifest_files(target):
    if os.path.isdir(target):
        out = []
        for root, dirs, files in os.walk(target):
            dirs.sort()
            out += [os.path.join(root, f) for f in sorted(files)
                    if f.endswith((".yaml", ".yml", ".json")) and not f.startswith(".")]
        return out
    if os.path.exists(target):
        return [target]
    raise LabError(f"{target}: no such file or directory")


def load_file(path):
    """Returns the documents of one file; raises LabError 'file:line:column: reason'."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise LabError(f"{path}: {e.strerror}")
    docs = []
    loader = yaml.SafeLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            obj = loader.construct_document(node)
            if obj is None:
                continue
            docs.append(Doc(obj, path, node.start_mark.line + 1, node))
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        raise LabError(f"{where}: {e.problem or e.context}")
    except yaml.YAMLError as e:
        raise LabError(f"{path}: {e}")
    finally:
        loader.dispose()
    for d in docs:
        check_document(d)
    return docs


def check_document(d):
    o = d.obj
    if not isinstance(o, dict):
        raise LabError(f"{d.where()}: a document must be a mapping with apiVersion, kind, metadata")
    for field in ("apiVersion", "kind"):
        if not isinstance(o.get(field), str) or not o[field]:
            raise LabError(f"{d.where()}: missing {field}")
    meta = o.get("metadata")
    if o["kind"] == "IstioOperator" and not (isinstance(meta, dict) and meta.get("name")):
        # istioctl installs an unnamed IstioOperator under this name.
        meta = o["metadata"] = dict(meta or {}, name="installed-state")
        meta.setdefault("namespace", "istio-system")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not meta["name"]:
        raise LabError(f"{d.where('metadata')}: {o['kind']} has no metadata.name")
    if meta.get("labels") is not None and not (
            isinstance(meta["labels"], dict)
            and all(isinstance(v, str) for v in meta["labels"].values())):
        raise LabError(f"{d.where('metadata', 'labels')}: labels must map names to strings")
    if (d.group, d.kind) in CLUSTER_SCOPED:
        meta.pop("namespace", None)
        if not DNS_LABEL.match(meta["name"]):
            raise LabError(f"{d.where('metadata', 'name')}: namespace name '{meta['name']}' "
                           "is not a DNS label")
    else:
        meta.setdefault("namespace", "default")
    if d.group == "" and d.kind in ("Pod", "Service") or d.group == "apps" and d.kind == "Deployment":
        if not DNS_SUBDOMAIN.match(meta["name"]):
            raise LabError(f"{d.where('metadata', 'name')}: name '{meta['name']}' is not a "
                           "lowercase DNS name")
    if d.kind == "Deployment" and d.group == "apps":
        check_deployment(d)
    elif d.kind == "Pod" and d.group == "":
        check_pod_spec(d, o.get("spec"), ("spec",), f"pod {d.namespace}/{d.name}")
    elif d.kind == "Service" and d.group == "":
        check_service(d)


def check_deployment(d):
    spec = d.obj.get("spec")
    what = f"deployment {d.namespace}/{d.name}"
    if not isinstance(spec, dict):
        raise LabError(f"{d.where()}: {what} has no spec")
    replicas = spec.get("replicas", 1)
    if not isinstance(replicas, int) or replicas < 0 or replicas > 100:
        raise LabError(f"{d.where('spec', 'replicas')}: {what}: replicas must be 0..100")
    tmpl = spec.get("template")
    if not isinstance(tmpl, dict):
        raise LabError(f"{d.where('spec')}: {what} has no spec.template")
    labels = (tmpl.get("metadata") or {}).get("labels") or {}
    selector = (spec.get("selector") or {}).get("matchLabels") or {}
    if not selector:
        raise LabError(f"{d.where('spec')}: {what} has no spec.selector.matchLabels")
    if any(labels.get(k) != v for k, v in selector.items()):
        raise LabError(f"{d.where('spec', 'selector')}: {what}: selector does not match the "
                       "template's labels")
    check_pod_spec(d, tmpl.get("spec"), ("spec", "template", "spec"), what)


def check_pod_spec(d, spec, at, what):
    if not isinstance(spec, dict) or not isinstance(spec.get("containers"), list) \
            or not spec["containers"]:
        raise LabError(f"{d.where(*at)}: {what} has no containers")
    c = spec["containers"][0]
    cat = at + ("containers", 0)
    if not isinstance(c, dict):
        raise LabError(f"{d.where(*cat)}: {what}: a container must be a mapping")
    cmd = c.get("command")
    if not cmd or not isinstance(cmd, list) or not all(isinstance(x, (str, int)) for x in cmd):
        raise LabError(f"{d.where(*cat)}: {what}: container '{c.get('name', '')}' has no command; "
                       "the lab ignores images and runs the container's command (and args) on "
                       "the host, e.g. command: [\"ambit-echo\", \"--http\", \"8080\"]")
    args = c.get("args", [])
    if not isinstance(args, list) or not all(isinstance(x, (str, int, float)) for x in args):
        raise LabError(f"{d.where(*cat, 'args')}: {what}: args must be a list of strings")
    for i, e in enumerate(c.get("env") or []):
        eat = cat + ("env", i)
        if not isinstance(e, dict) or not isinstance(e.get("name"), str):
            raise LabError(f"{d.where(*eat)}: {what}: env entries need a name")
        if "valueFrom" in e:
            path = ((e["valueFrom"] or {}).get("fieldRef") or {}).get("fieldPath", "")
            if not FIELD_PATHS.match(str(path)):
                raise LabError(f"{d.where(*eat, 'valueFrom')}: {what}: env {e['name']}: the lab "
                               "supports only valueFrom.fieldRef with metadata.name, "
                               "metadata.namespace, metadata.labels['x'], spec.nodeName, "
                               "spec.serviceAccountName, status.podIP")
    for i, p in enumerate(c.get("ports") or []):
        if not isinstance(p, dict) or not isinstance(p.get("containerPort"), int):
            raise LabError(f"{d.where(*cat, 'ports', i)}: {what}: ports need a containerPort")


def check_service(d):
    spec = d.obj.get("spec")
    what = f"service {d.namespace}/{d.name}"
    if not isinstance(spec, dict) or not isinstance(spec.get("ports"), list) or not spec["ports"]:
        raise LabError(f"{d.where()}: {what} has no spec.ports")
    for i, p in enumerate(spec["ports"]):
        if not isinstance(p, dict) or not isinstance(p.get("port"), int) \
                or not 0 < p["port"] < 65536:
            raise LabError(f"{d.where('spec', 'ports', i)}: {what}: port must be 1..65535")
        if p.get("protocol", "TCP") not in ("TCP", "UDP"):
            raise LabError(f"{d.where('spec', 'ports', i)}: {what}: protocol "
                           f"{p.get('protocol')} is not supported (TCP, UDP)")
        tp = p.get("targetPort", p["port"])
        if not isinstance(tp, (int, str)):
            raise LabError(f"{d.where('spec', 'ports', i)}: {what}: bad targetPort")
    vip = spec.get("clusterIP")
    if vip not in (None, "", "None"):
        try:
            if ipaddress.ip_address(vip) not in ipaddress.ip_network("10.96.0.0/16"):
                raise ValueError
        except ValueError:
            raise LabError(f"{d.where('spec', 'clusterIP')}: {what}: clusterIP {vip} is not an "
                           "address in the lab's service range 10.96.0.0/16")
    if spec.get("selector") is not None and not isinstance(spec["selector"], dict):
        raise LabError(f"{d.where('spec', 'selector')}: {what}: selector must be a mapping")
