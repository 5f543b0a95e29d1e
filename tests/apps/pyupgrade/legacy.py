# -*- coding: utf-8 -*-
from __future__ import print_function, unicode_literals
import six


class Shape(object):
    def __init__(self, name, sides):
        super(Shape, self).__init__()
        self.name = name
        self.sides = sides

    def describe(self):
        return "%s has %d sides" % (self.name, self.sides)

    def label(self):
        return "{0}-{1}".format(self.name, self.sides)


def unique(items):
    return set([x for x in items])


def flags():
    return dict([(k, True) for k in ("a", "b")])


if isinstance("x", six.string_types):
    print(u"text %s" % "ok")
