# requires: bcrypt (python3-bcrypt)
"""bcrypt: hashpw/checkpw with a fixed salt, kdf."""
import bcrypt

salt = b"$2b$04$abcdefghijklmnopqrstuu"
h = bcrypt.hashpw(b"password", salt)
print(h.decode(), bcrypt.checkpw(b"password", h), bcrypt.checkpw(b"wrong", h))
print(bcrypt.kdf(password=b"pw", salt=b"salt", desired_key_bytes=16, rounds=50).hex())
print(len(bcrypt.gensalt(rounds=4)))
