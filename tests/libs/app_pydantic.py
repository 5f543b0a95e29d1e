# requires: pydantic (python3-pydantic)
"""pydantic (v1, compiled): models, validation errors, nested models, json(), schema()."""
from typing import List, Optional

import pydantic
from pydantic import BaseModel, EmailStr, Field, ValidationError, validator


class Item(BaseModel):
    name: str
    price: float = Field(gt=0)


class Order(BaseModel):
    id: int
    items: List[Item]
    note: Optional[str] = None

    @validator("items")
    def nonempty(cls, v):
        if not v:
            raise ValueError("empty order")
        return v


o = Order(id="7", items=[{"name": "a", "price": "1.5"}])
print(o, o.json(), pydantic.compiled)
try:
    Order(id="x", items=[])
except ValidationError as e:
    print([(err["loc"], err["type"]) for err in e.errors()])
print(Order.schema()["required"], sorted(Order.schema()["definitions"]))
