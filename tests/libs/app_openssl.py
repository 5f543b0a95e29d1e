# requires: OpenSSL (python3-openssl)
"""pyOpenSSL: a key pair, a self-signed X509, PKCS12-free PEM round trip, a TLS handshake over a socketpair."""
import socket
import threading

from OpenSSL import SSL, crypto

key = crypto.PKey()
key.generate_key(crypto.TYPE_RSA, 2048)
cert = crypto.X509()
cert.get_subject().CN = "localhost"
cert.set_serial_number(7)
cert.set_notBefore(b"20200101000000Z")
cert.set_notAfter(b"20300101000000Z")
cert.set_issuer(cert.get_subject())
cert.set_pubkey(key)
cert.sign(key, "sha256")
pem = crypto.dump_certificate(crypto.FILETYPE_PEM, cert)
c2 = crypto.load_certificate(crypto.FILETYPE_PEM, pem)
print("x509", c2.get_subject().CN, c2.get_serial_number(), c2.get_notAfter(), key.bits())

sctx = SSL.Context(SSL.TLS_SERVER_METHOD)
sctx.use_privatekey(key)
sctx.use_certificate(cert)
cctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
a, b = socket.socketpair()
server = SSL.Connection(sctx, a)
server.set_accept_state()
client = SSL.Connection(cctx, b)
client.set_connect_state()


def srv():
    server.do_handshake()
    server.sendall(server.recv(100).upper())


t = threading.Thread(target=srv)
t.start()
client.do_handshake()
client.sendall(b"hello tls")
print("tls", client.recv(100), client.get_protocol_version_name().startswith("TLS"),
      client.get_peer_certificate().get_subject().CN)
t.join()
