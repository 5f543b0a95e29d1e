# requires: idna (python3-idna)
"""idna: IDNA 2008 encode/decode, UTS 46 mapping, invalid labels (its uts46data tables)."""
import idna

print(idna.encode("ドメイン.テスト"), idna.decode("xn--eckwd4c7c.xn--zckzah"))
print(idna.encode("Königsgäßchen.example", uts46=True), idna.alabel("bücher"))
try:
    idna.encode("a_b.example")
except idna.IDNAError as e:
    print("error", type(e).__name__)
