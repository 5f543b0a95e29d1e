# requires: werkzeug (python3-werkzeug)
"""werkzeug: routing, Request/Response from a WSGI environ, password hashing, datastructures."""
from werkzeug.datastructures import Headers, MultiDict
from werkzeug.routing import Map, Rule
from werkzeug.security import check_password_hash, generate_password_hash
from werkzeug.test import Client, EnvironBuilder
from werkzeug.wrappers import Request, Response

url_map = Map([Rule("/", endpoint="index"), Rule("/user/<int:uid>", endpoint="user"),
               Rule("/f/<path:p>", endpoint="file")])
adapter = url_map.bind("example.org")
print(adapter.match("/user/42"), adapter.match("/f/a/b.txt"), adapter.build("user", {"uid": 7}))


@Request.application
def app(request):
    return Response(f"{request.method} {request.path} {request.args.getlist('x')}", mimetype="text/plain")


r = Client(app).get("/p?x=1&x=2")
print(r.status, r.headers["Content-Type"], r.get_data(as_text=True))
req = Request(EnvironBuilder(method="POST", data={"a": "1", "b": "2"}).get_environ())
print(sorted(req.form.items()))
h = generate_password_hash("s3cret", method="pbkdf2:sha256:1000")
print(h.split("$")[0], check_password_hash(h, "s3cret"), check_password_hash(h, "no"))
md = MultiDict([("a", 1), ("a", 2)])
print(md.getlist("a"), Headers([("X", "1")]).to_wsgi_list())
