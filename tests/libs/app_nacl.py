# requires: nacl (python3-nacl)
"""PyNaCl: SecretBox, Box, SigningKey, hashing and pwhash (libsodium through cffi)."""
import nacl.encoding
import nacl.hash
import nacl.pwhash
import nacl.secret
import nacl.utils
from nacl.public import Box, PrivateKey
from nacl.signing import SigningKey

box = nacl.secret.SecretBox(bytes(range(32)))
enc = box.encrypt(b"attack at dawn", bytes(24))
print("secretbox", enc.ciphertext.hex(), box.decrypt(enc))
a, b = PrivateKey(bytes([1] * 32)), PrivateKey(bytes([2] * 32))
ct = Box(a, b.public_key).encrypt(b"hi bob", bytes(24))
print("box", Box(b, a.public_key).decrypt(ct), a.public_key.encode(nacl.encoding.HexEncoder)[:16])
sk = SigningKey(bytes([3] * 32))
sm = sk.sign(b"signed")
print("sign", sm.signature.hex()[:32], sk.verify_key.verify(sm))
print("blake2b", nacl.hash.blake2b(b"abc", digest_size=16))
print("sha256", nacl.hash.sha256(b"abc")[:16])
h = nacl.pwhash.argon2id.kdf(16, b"password", bytes(16), opslimit=2, memlimit=8 * 1024 * 1024)
print("argon2id", h.hex(), len(nacl.utils.random(8)))
