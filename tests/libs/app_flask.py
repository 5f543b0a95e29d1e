# requires: flask (python3-flask)
"""flask: routes, jsonify, a Jinja template, the session cookie, error handlers (test client)."""
from flask import Flask, abort, jsonify, render_template_string, request, session

app = Flask(__name__)
app.secret_key = "libsuite"


@app.route("/hello/<name>")
def hello(name):
    return render_template_string("{% for i in range(n) %}<b>{{ name|title }}</b>{% endfor %}",
                                  name=name, n=int(request.args.get("n", 1)))


@app.route("/count", methods=["POST"])
def count():
    session["n"] = session.get("n", 0) + request.get_json()["add"]
    return jsonify(n=session["n"])


@app.route("/teapot")
def teapot():
    abort(418)


@app.errorhandler(418)
def on_418(e):
    return jsonify(error=e.name), 418


c = app.test_client()
r = c.get("/hello/world?n=2")
print(r.status_code, r.get_data(as_text=True))
print(c.post("/count", json={"add": 2}).get_json(), c.post("/count", json={"add": 3}).get_json())
r = c.get("/teapot")
print(r.status_code, r.get_json())
print(c.get("/missing").status_code, sorted(str(x) for x in app.url_map.iter_rules()))
