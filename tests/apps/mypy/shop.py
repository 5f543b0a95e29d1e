from dataclasses import dataclass
from typing import Optional


@dataclass
class Item:
    name: str
    price: float
    qty: int = 1


def total(items: list[Item]) -> float:
    return sum(i.price * i.qty for i in items)


def find(items: list[Item], name: str) -> Optional[Item]:
    for i in items:
        if i.name == name:
            return i
    return None


def label(item: Item) -> str:
    return item.name + ": " + item.price


basket = [Item("pen", 1.5, 2), Item("ink", "3")]
print(find(basket, "pen").qty)
print(total(basket).upper())
