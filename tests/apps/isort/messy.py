from typing import List, Dict
import sys
import os.path
from .local import helper
import requests
from collections import OrderedDict, defaultdict
import json, re
from __future__ import annotations
import yaml
from . import sibling


def main():
    return sys, os, helper, requests, OrderedDict, defaultdict, json, re, yaml, sibling, List, Dict
