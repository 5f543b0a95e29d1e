# requires: sqlalchemy (python3-sqlalchemy)
"""SQLAlchemy: create_engine('sqlite://'), declarative ORM models, relationships, queries, Core text()."""
from sqlalchemy import ForeignKey, String, create_engine, func, select, text
from sqlalchemy.orm import Session, declarative_base, relationship
from sqlalchemy import Column, Integer

Base = declarative_base()


class User(Base):
    __tablename__ = "users"
    id = Column(Integer, primary_key=True)
    name = Column(String(30), nullable=False)
    posts = relationship("Post", back_populates="user", order_by="Post.id")


class Post(Base):
    __tablename__ = "posts"
    id = Column(Integer, primary_key=True)
    title = Column(String(50))
    user_id = Column(ForeignKey("users.id"))
    user = relationship("User", back_populates="posts")


engine = create_engine("sqlite://")
Base.metadata.create_all(engine)
with Session(engine) as s:
    s.add_all([User(name="ann", posts=[Post(title="a1"), Post(title="a2")]), User(name="bob", posts=[Post(title="b1")])])
    s.commit()
    q = select(User.name, func.count(Post.id)).join(Post).group_by(User.name).order_by(User.name)
    print(s.execute(q).all())
    ann = s.scalars(select(User).where(User.name == "ann")).one()
    print(ann.name, [p.title for p in ann.posts], s.get(Post, 3).user.name)
with engine.connect() as c:
    print(c.execute(text("select sqlite_version() is not null, count(*) from posts")).all())
print(engine.dialect.name, str(select(User.id).where(User.name == "x")).replace("\n", " "))
