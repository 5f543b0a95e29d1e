import os, sys
import json
from collections import *


def load_inventory(path, verbose = False):
    """load items"""
    items = []
    f = open(path)
    for line in f.readlines():
        line=line.strip()
        if line == None:
            continue
        if verbose: print("reading", line)
        items.append(json.loads(line))
    return items

class Inventory:
    def __init__(self, items=[]):
        self.items = items
        self.unused = 42

    def total(self):
        total = 0
        for item in self.items:
            total = total + item["price"] * item["qty"]
        return total

    def names(self):
        l = [i["name"] for i in self.items]
        return l
    def lookup(self, name):
        try:
            return [i for i in self.items if i["name"] == name][0]
        except:
            return undefined_name


def _helper(x):
    return x * 2
