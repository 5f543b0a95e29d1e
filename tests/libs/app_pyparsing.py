# requires: pyparsing (python3-pyparsing)
"""pyparsing: a grammar for arithmetic with infix_notation, parse actions, common expressions."""
import pyparsing as pp
from pyparsing import common

num = common.number
expr = pp.infix_notation(num, [(pp.one_of("* /"), 2, pp.OpAssoc.LEFT), (pp.one_of("+ -"), 2, pp.OpAssoc.LEFT)])
print(expr.parse_string("1 + 2 * (3 - 4) / 5").as_list())
ident = pp.Word(pp.alphas + "_", pp.alphanums + "_")
assign = ident("name") + pp.Suppress("=") + (num | pp.QuotedString('"'))("value")
r = assign.parse_string('total = 42')
print(r.name, r.value, assign.parse_string('s = "hi there"').value)
print(common.ipv4_address.parse_string("10.1.2.3")[0], common.iso8601_date.parse_string("2020-01-02").as_dict())
print(pp.delimited_list(pp.Word(pp.nums)).parse_string("1, 2,3").as_list())
try:
    assign.parse_string("= 3")
except pp.ParseException as e:
    print("error col", e.col)
