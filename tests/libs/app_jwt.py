# requires: jwt (python3-jwt)
"""PyJWT: HS256 and EdDSA/RS256 (through cryptography) encode/decode with fixed claims."""
import jwt
from cryptography.hazmat.primitives.asymmetric import ed25519

claims = {"sub": "42", "name": "Ann", "iat": 1600000000}
tok = jwt.encode(claims, "secret", algorithm="HS256")
print(tok)
print(jwt.decode(tok, "secret", algorithms=["HS256"]), jwt.get_unverified_header(tok))
k = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(32))
t2 = jwt.encode(claims, k, algorithm="EdDSA")
print(t2.split(".")[2][:20], jwt.decode(t2, k.public_key(), algorithms=["EdDSA"])["name"])
try:
    jwt.decode(tok, "wrong", algorithms=["HS256"])
except jwt.InvalidSignatureError as e:
    print("invalid", type(e).__name__)
