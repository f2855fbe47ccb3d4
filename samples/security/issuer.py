#!/usr/bin/python3
"""A token issuer for the lab: an ES256 key pair whose public half is a JWKS file the lab serves,
and tokens signed with it (python3-jwt, an implementation other than Ambit's).

  issuer.py init DIR                      make DIR/key.pem and DIR/jwks.json (kid "lab-1")
  issuer.py token DIR [--sub S] [--groups a,b] [--ttl SECONDS] [--aud A]
                                          print a token of issuer https://auth.example.com
"""
import argparse
import json
import os
import sys
import time

ISSUER = "https://auth.example.com"
KID = "lab-1"


def init(directory):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    import jwt
    os.makedirs(directory, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    with open(os.path.join(directory, "key.pem"), "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": KID, "alg": "ES256", "use": "sig"})
    with open(os.path.join(directory, "jwks.json"), "w") as f:
        json.dump({"keys": [jwk]}, f)


def token(directory, sub, groups, ttl, aud):
    import jwt
    with open(os.path.join(directory, "key.pem"), "rb") as f:
        key = f.read()
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": sub, "aud": aud, "iat": now, "exp": now + ttl}
    if groups:
        claims["groups"] = groups.split(",")
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": KID})


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    i = sub.add_parser("init")
    i.add_argument("dir")
    t = sub.add_parser("token")
    t.add_argument("dir")
    t.add_argument("--sub", default="alice")
    t.add_argument("--groups", default="")
    t.add_argument("--ttl", type=int, default=3600, help="seconds until exp (negative: expired)")
    t.add_argument("--aud", default="my-service")
    a = p.parse_args()
    if a.command == "init":
        init(a.dir)
    else:
        print(token(a.dir, a.sub, a.groups, a.ttl, a.aud))
    return 0


if __name__ == "__main__":
    sys.exit(main())
