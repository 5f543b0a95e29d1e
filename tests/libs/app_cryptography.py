# requires: cryptography (python3-cryptography)
"""cryptography: Fernet, RSA and Ed25519 sign/verify, AES-GCM, HKDF, an X.509 self-signed certificate."""
import datetime

from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import NameOID

key = b"0" * 32
f = Fernet(Fernet.generate_key())
print("fernet", f.decrypt(f.encrypt(b"secret message")))
rk = rsa.generate_private_key(public_exponent=65537, key_size=2048)
sig = rk.sign(b"data", padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
rk.public_key().verify(sig, b"data", padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
print("rsa", len(sig), rk.key_size)
ek = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
print("ed25519", ek.sign(b"msg").hex()[:32], ek.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()[:16])
ct = AESGCM(key).encrypt(b"\x00" * 12, b"plaintext", b"aad")
print("aesgcm", ct.hex())
print("hkdf", HKDF(algorithm=hashes.SHA256(), length=16, salt=b"s", info=b"i").derive(b"ikm").hex())
h = hashes.Hash(hashes.SHA3_256())
h.update(b"abc")
print("sha3", h.finalize().hex()[:16])
ck = ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "libsuite.test")])
t0 = datetime.datetime(2020, 1, 1)
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(ck.public_key())
        .serial_number(42).not_valid_before(t0).not_valid_after(t0 + datetime.timedelta(days=10))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("a.test")]), critical=False)
        .sign(ck, hashes.SHA256()))
pem = cert.public_bytes(serialization.Encoding.PEM)
c2 = x509.load_pem_x509_certificate(pem)
print("x509", c2.subject.rfc4514_string(), c2.serial_number, c2.not_valid_after,
      c2.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName))
