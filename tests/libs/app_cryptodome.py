# requires: Cryptodome (python3-pycryptodome)
"""pycryptodome (Cryptodome): AES-GCM/CBC, ChaCha20, SHA3/BLAKE2, RSA import + PKCS#1 v1.5 signature, scrypt."""
from Cryptodome.Cipher import AES, ChaCha20
from Cryptodome.Hash import BLAKE2b, SHA3_256, SHA256
from Cryptodome.Protocol.KDF import PBKDF2, scrypt
from Cryptodome.PublicKey import ECC, RSA
from Cryptodome.Signature import DSS, pkcs1_15
from Cryptodome.Util.Padding import pad, unpad

key = bytes(range(16))
c = AES.new(key, AES.MODE_GCM, nonce=bytes(12))
ct, tag = c.encrypt_and_digest(b"hello gcm")
print("gcm", ct.hex(), tag.hex())
cbc = AES.new(key, AES.MODE_CBC, iv=bytes(16)).encrypt(pad(b"cbc data", 16))
print("cbc", unpad(AES.new(key, AES.MODE_CBC, iv=bytes(16)).decrypt(cbc), 16))
print("chacha", ChaCha20.new(key=bytes(32), nonce=bytes(8)).encrypt(b"stream").hex())
print("sha3", SHA3_256.new(b"abc").hexdigest()[:16], BLAKE2b.new(digest_bits=128, data=b"abc").hexdigest())
print("pbkdf2", PBKDF2(b"pw", b"salt", 16, count=100).hex(), "scrypt", scrypt(b"pw", b"salt", 16, N=1024, r=8, p=1).hex())
# deterministic RSA: built from fixed primes
p = 0xE1B6E4F1DAB1C4C3A5DA5B4AF0F7D0D0FFDDA1E3AC3B42A8E4A57C1B3E6FDE1D0B6D6A4C7A6B8E2A5F5E1E2D5C9E7A3F1B7C8E9D4A2B1C3F5E7D9A1B3C5D7F9B
q = 0xC9B1D3F5A7E9C1B3D5F7A9C1E3B5D7F9A1C3E5B7D9F1A3C5E7B9D1F3A5C7E9B1D3F5A7C9E1B3D5F7A9C1E3B5D7F9A1C3E5B7D9F1A3C5E7B9D1F3A5C7E9B1D3F5A7
from Cryptodome.Math.Numbers import Integer
def next_prime(n):
    from Cryptodome.Math.Primality import test_probable_prime, PROBABLY_PRIME
    n |= 1
    while test_probable_prime(Integer(n)) != PROBABLY_PRIME:
        n += 2
    return n
p, q = next_prime(p), next_prime(q)
e = 65537
n = p * q
d = pow(e, -1, (p - 1) * (q - 1))
rk = RSA.construct((n, e, d, p, q))
sig = pkcs1_15.new(rk).sign(SHA256.new(b"msg"))
pkcs1_15.new(rk.publickey()).verify(SHA256.new(b"msg"), sig)
print("rsa", rk.size_in_bits(), sig.hex()[:32], RSA.import_key(rk.export_key()).n == n)
ek = ECC.construct(curve="P-256", d=12345)
s = DSS.new(ek, "deterministic-rfc6979").sign(SHA256.new(b"m"))
print("ecdsa", s.hex()[:32], ek.public_key().export_key(format="PEM").splitlines()[0])
