#!/usr/bin/python3
"""System tests of the waypoint's L7 security on a two-node lab: Istio's examples 11
(AuthorizationPolicy with L7 rules) and 12 (RequestAuthentication with a JWT) as ambient users
write them, bound to the service's waypoint with targetRefs, plus path-normalization bypasses.

Brings up `scripts/lab up --nodes 2` with samples/waypoint (see waypoint_system_test.py), a
`frontend` caller with its own service account, and a JWKS server in namespace `auth` (Python's
http.server over a key set this test generates). Tokens are signed here with python3-jwt.

Needs root. Every wait is bounded and every command has a timeout.

  waypoint_security_test.py --build-dir build/release [--repo .] [unittest options]
"""

import json
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "agent", "system"))
from labtest import lab, log, wait_for  # noqa: E402
import waypoint_system_test as wst  # noqa: E402

ARGS = None
ISSUER = "https://auth.example.com"
JWKS_DIR = "/tmp/ambit-security-test-jwks"

FRONTEND = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: frontend, namespace: default}
spec:
  replicas: 1
  selector:
    matchLabels: {app: frontend}
  template:
    metadata:
      labels: {app: frontend}
    spec:
      serviceAccountName: frontend
      containers:
      - {name: frontend, image: ambit/client, command: ["sleep", "infinity"]}
"""

JWKS_SERVER = f"""\
apiVersion: v1
kind: Namespace
metadata: {{name: auth}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: jwks, namespace: auth}}
spec:
  replicas: 1
  selector:
    matchLabels: {{app: jwks}}
  template:
    metadata:
      labels: {{app: jwks}}
    spec:
      containers:
      - name: jwks
        image: ambit/client
        command: ["python3", "-m", "http.server", "8000", "--directory", "{JWKS_DIR}"]
        ports:
        - {{name: http, containerPort: 8000}}
---
apiVersion: v1
kind: Service
metadata: {{name: jwks, namespace: auth}}
spec:
  selector: {{app: jwks}}
  ports:
  - {{name: http, port: 80, targetPort: 8000}}
"""

TARGET_SERVICE = "targetRefs:\n  - {kind: Service, group: \"\", name: my-service}"

# Example 11 for ambient: deny-all as written (the node agents enforce it), the waypoint allowed
# to reach the service's pods (as Istio's ambient docs ask once deny-all is in place), and
# allow-frontend bound to the service's waypoint, which can see methods and paths.
EXAMPLE_11 = f"""\
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: {{name: deny-all, namespace: default}}
spec: {{}}
---
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: {{name: allow-waypoint, namespace: default}}
spec:
  selector:
    matchLabels: {{app: my-service}}
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/default/sa/waypoint"]
---
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: {{name: allow-frontend, namespace: default}}
spec:
  {TARGET_SERVICE}
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/default/sa/frontend"]
    to:
    - operation:
        methods: ["GET", "POST"]
        paths: ["/api/*"]
---
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: {{name: deny-admin, namespace: default}}
spec:
  {TARGET_SERVICE}
  action: DENY
  rules:
  - to:
    - operation:
        paths: ["/api/admin", "/api/admin/*"]
"""

# Example 12 for ambient: bound to the waypoint, keys from the lab's JWKS server; /public/ is
# open to all, so a JWKS outage shows that requests not needing a token are unaffected.
EXAMPLE_12 = f"""\
apiVersion: security.istio.io/v1beta1
kind: RequestAuthentication
metadata: {{name: jwt-auth, namespace: default}}
spec:
  {TARGET_SERVICE}
  jwtRules:
  - issuer: "{ISSUER}"
    jwksUri: "http://jwks.auth.svc.cluster.local/jwks.json"
    audiences:
    - "my-service"
    forwardOriginalToken: true
    outputClaimToHeaders:
    - {{header: x-jwt-sub, claim: sub}}
---
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata: {{name: require-jwt, namespace: default}}
spec:
  {TARGET_SERVICE}
  action: ALLOW
  rules:
  - from:
    - source:
        requestPrincipals: ["{ISSUER}/*"]
    when:
    - key: request.auth.claims[groups]
      values: ["admin"]
  - to:
    - operation:
        paths: ["/public/*"]
"""


def requests(n=1, path="/", headers=(), pod="default/client", method="GET"):
    argv = ["exec", pod, "--", "python3", wst.LOAD, "http://my-service" + path, str(n),
            "--method", method]
    for h in headers:
        argv += ["-H", h]
    out = lab(*argv, timeout=120).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def status_of(path, pod="default/frontend", method="GET", headers=()):
    return requests(1, path, headers, pod, method)[0]["status"]


class Keys:
    """An ES256 key pair whose public half the lab's JWKS server serves, and a stranger's."""

    def __init__(self):
        import jwt
        from cryptography.hazmat.primitives.asymmetric import ec
        self.jwt = jwt
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.other = ec.generate_private_key(ec.SECP256R1())
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": "lab-1", "alg": "ES256", "use": "sig"})
        self.jwks = json.dumps({"keys": [jwk]})

    def token(self, key=None, kid="lab-1", **claims):
        now = int(time.time())
        payload = {"iss": ISSUER, "sub": "alice", "aud": "my-service", "iat": now,
                   "exp": now + 600, "groups": ["admin"]}
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if v is not None}
        return self.jwt.encode(payload, key or self.key, algorithm="ES256",
                               headers={"kid": kid})


def unsigned_token():
    import base64

    def b64(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()
    now = int(time.time())
    return b64({"alg": "none", "typ": "JWT"}) + "." + b64(
        {"iss": ISSUER, "sub": "mallory", "aud": "my-service", "exp": now + 600,
         "groups": ["admin"]}) + "."


class WaypointSecurityTest(wst.LabTestCase):
    @classmethod
    def setUpClass(cls):
        start = time.monotonic()
        cls.keys = Keys()
        lab("down", timeout=120)
        try:
            lab("up", "--nodes", "2", "--build-dir", ARGS.build_dir, timeout=180)
            lab("apply", "-f", os.path.join(ARGS.repo, "samples", "waypoint"), timeout=180)
            wst.apply_text(FRONTEND, "frontend")
            wait_for("requests through the waypoint", lambda: all(
                r["status"] == 200 for r in requests(3, pod="default/frontend")) and
                "my-service" in wst.waypoint_log())
        except BaseException:
            traceback.print_exc()
            wst.log_tails()
            lab("down", timeout=120, check=False)
            raise
        log(f"lab up with samples/waypoint in {time.monotonic() - start:.1f} s")


    def tearDown(self):
        for name, text in (("example-11", EXAMPLE_11), ("example-12", EXAMPLE_12)):
            path = os.path.join("/tmp", f"ambit-waypoint-test-{name}.yaml")
            with open(path, "w") as f:
                f.write(text)
            lab("delete", "-f", path, timeout=60, check=False)
        wait_for("no policy in force", lambda: status_of("/other", pod="default/client") == 200)

    def test_11_l7_authorization(self):
        wst.apply_text(EXAMPLE_11, "example-11")
        wait_for("allow-frontend in force", lambda: status_of("/other") == 403)
        self.assertEqual(status_of("/api/items"), 200)
        self.assertEqual(status_of("/api/items", method="POST"), 200)
        self.assertEqual(status_of("/api/items", method="DELETE"), 403)
        self.assertEqual(status_of("/api/items", pod="default/client"), 403)
        rs = requests(1, "/other", pod="default/frontend")
        self.assertIn("RBAC: access denied", rs[0]["body"])
        self.assertIn("rbac_access_denied_matched_policy[none]", wst.waypoint_log())
        # DENY wins over ALLOW, and no spelling of /api/admin gets around it.
        self.assertEqual(status_of("/api/admin"), 403)
        for path in ("/api/./admin", "/api/x/../admin", "/api/%61dmin", "/api/%2e/admin",
                     "/api/admin/", "/api/admin/../admin/x", "/api/%2E%2E/api/admin"):
            self.assertEqual(status_of(path), 403, path)
        self.assertIn("rbac_access_denied_matched_policy[ns[default]-policy[deny-admin]-rule[0]]",
                      wst.waypoint_log())
        # Encoded slashes and NULs are refused before any policy sees them.
        for path in ("/api%2Fadmin", "/api/%5Cadmin", "/api/%00admin"):
            self.assertEqual(status_of(path), 400, path)
        # Normalized on the way: the app sees the path the policy allowed.
        rs = requests(1, "/api/x/../items", pod="default/frontend")
        self.assertEqual((rs[0]["status"], rs[0]["path"]), (200, "/api/items"))

    def test_12_jwt(self):
        with open(os.path.join(JWKS_DIR, "jwks.json"), "w") as f:
            f.write(self.keys.jwks)
        wst.apply_text(EXAMPLE_12, "example-12")
        bearer = "Authorization: Bearer "
        # No JWKS server yet: tokens of the issuer fail closed; /public/ is unaffected.
        wait_for("require-jwt in force", lambda: status_of("/") == 403)
        self.assertEqual(status_of("/", headers=[bearer + self.keys.token()]), 401)
        self.assertEqual(status_of("/public/x"), 200)
        wst.apply_text(JWKS_SERVER, "jwks")
        wait_for("the JWKS fetched", lambda: status_of(
            "/", headers=[bearer + self.keys.token()]) == 200, timeout=60)
        rs = requests(1, "/", headers=[bearer + self.keys.token(sub="bob")])
        echoed = rs[0]["echoed"]
        self.assertTrue(echoed.get("authorization", "").startswith("Bearer "), echoed)
        self.assertEqual(echoed.get("x-jwt-sub"), "bob")
        forged = requests(1, "/public/x", headers=["x-jwt-sub: root"])[0]["echoed"]
        self.assertNotIn("x-jwt-sub", forged)
        # Valid tokens without the admin group are authenticated but not authorized.
        self.assertEqual(status_of("/", headers=[bearer + self.keys.token(groups=["dev"])]), 403)
        self.assertEqual(status_of("/", headers=[bearer + self.keys.token(groups=None)]), 403)
        # Refused with 401, whatever the policy says.
        now = int(time.time())
        for why, token in (
                ("expired", self.keys.token(exp=now - 120)),
                ("not yet valid", self.keys.token(nbf=now + 600)),
                ("wrong key", self.keys.token(key=self.keys.other)),
                ("unknown kid", self.keys.token(kid="lab-2")),
                ("wrong audience", self.keys.token(aud="other-service")),
                ("unknown issuer", self.keys.token(iss="https://evil.example.com")),
                ("alg none", unsigned_token()),
                ("garbage", "not.a.token")):
            rs = requests(1, "/", headers=[bearer + token])
            self.assertEqual(rs[0]["status"], 401, why)
            self.assertEqual(requests(1, "/public/x", headers=[bearer + token])[0]["status"], 401,
                             why + " (a bad token is refused even where none is needed)")
        self.assertIn("Jwt is expired", wst.waypoint_log())


def main():
    def prepare(args):
        global ARGS
        ARGS = args
        os.makedirs(JWKS_DIR, exist_ok=True)
    return wst.run_lab_tests("waypoint_security_test", __doc__, prepare=prepare)


if __name__ == "__main__":
    sys.exit(main())
