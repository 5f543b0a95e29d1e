# requires: dns (python3-dnspython)
"""dnspython: build a query and a response message offline, to_wire/from_wire, rdata from text (its rdtype modules), names, zones."""
import dns.message
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.reversename
import dns.zone

q = dns.message.make_query("example.org.", "AAAA", id=4242, want_dnssec=True)
wire = q.to_wire()
print(len(wire), dns.message.from_wire(wire).question[0].to_text())
r = dns.message.make_response(q)
r.answer.append(dns.rrset.from_text("example.org.", 300, "IN", "AAAA", "2001:db8::1"))
r.answer.append(dns.rrset.from_text("example.org.", 300, "IN", "TXT", '"hello world"'))
back = dns.message.from_wire(r.to_wire())
print(back.id, [rr.to_text() for rr in back.answer])
for t, txt in [("MX", "10 mail.example.org."), ("SOA", "ns hostmaster 1 7200 900 1209600 86400"),
               ("CAA", '0 issue "ca.example"'), ("SRV", "0 5 5060 sip.example.org."), ("NAPTR", '100 10 "u" "E2U+sip" "" .'),
               ("DS", "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118"), ("SSHFP", "4 2 " + "ab" * 32)]:
    rd = dns.rdata.from_text("IN", t, txt, origin=dns.name.from_text("example.org."))
    print(t, type(rd).__module__, rd.to_text())
print(dns.reversename.from_address("192.0.2.7"), dns.name.from_text("a.b.c.").relativize(dns.name.from_text("c.")))
z = dns.zone.from_text("$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\nwww CNAME ns\n", origin="z.test.")
print(sorted(str(n) for n in z.nodes), z.get_rdataset("www", "CNAME")[0].target)
