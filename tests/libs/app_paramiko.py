# requires: paramiko (python3-paramiko)
"""paramiko: Ed25519 and RSA keys from strings, sign/verify, fingerprints, an SSH Message, a Transport over a socketpair (kex)."""
import io
import socket
import threading

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

raw = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
pem = raw.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                        serialization.NoEncryption()).decode()
k = paramiko.Ed25519Key.from_private_key(io.StringIO(pem))
print("ed25519", k.get_name(), k.get_fingerprint().hex(), k.get_bits())
sig = k.sign_ssh_data(b"hello")
pubkey = paramiko.Ed25519Key(data=k.asbytes())
print("verify", pubkey.verify_ssh_sig(b"hello", paramiko.Message(sig.asbytes())), pubkey == k)
m = paramiko.Message()
m.add_string("abc")
m.add_int(7)
m.add_boolean(True)
m.rewind()
print("message", m.get_text(), m.get_int(), m.get_boolean())
print("pub", k.get_base64()[:20])

# client and server transports over a socketpair: key exchange, auth by password, a session channel
class Server(paramiko.ServerInterface):
    def check_auth_password(self, username, password):
        return paramiko.AUTH_SUCCESSFUL if (username, password) == ("u", "p") else paramiko.AUTH_FAILED

    def get_allowed_auths(self, username):
        return "password"

    def check_channel_request(self, kind, chanid):
        return paramiko.OPEN_SUCCEEDED

    def __init__(self):
        self.command = None
        self.ev = threading.Event()

    def check_channel_exec_request(self, channel, command):
        self.command = command
        self.ev.set()
        return True


s1, s2 = socket.socketpair()
st = paramiko.Transport(s1)
st.add_server_key(k)
server = Server()
srv_thread = threading.Thread(target=st.start_server, kwargs={"server": server})
srv_thread.start()
ct = paramiko.Transport(s2)
ct.start_client(timeout=10)
srv_thread.join()
print("kex", ct.get_remote_server_key().get_name(), ct.is_active())
ct.auth_password("u", "p")
print("auth", ct.is_authenticated())
ch = ct.open_session(timeout=10)
ch.exec_command("echo")
sch = st.accept(10)
server.ev.wait(10)
sch.sendall(b"ran " + server.command)
sch.send_exit_status(0)
sch.close()
print("exec", ch.recv(100), ch.recv_exit_status())
ct.close()
st.close()
