# requires: rsa (python3-rsa)
"""python-rsa: a key from fixed primes, PKCS#1 sign/verify, encrypt/decrypt, PEM round trip."""
import random

import rsa

random.seed(5)
pub, priv = rsa.newkeys(512, poolsize=1, accurate=True)
pem = priv.save_pkcs1()
priv2 = rsa.PrivateKey.load_pkcs1(pem)
sig = rsa.sign(b"message", priv2, "SHA-256")
print("verify", rsa.verify(b"message", sig, pub), len(sig))
print("roundtrip", rsa.decrypt(rsa.encrypt(b"hi", pub), priv))
print("pem", pem.splitlines()[0], rsa.PublicKey.load_pkcs1(pub.save_pkcs1()) == pub)
print("common", rsa.common.bit_size(pub.n))
