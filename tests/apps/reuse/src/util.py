# SPDX-FileCopyrightText: 2021 Ann Example <ann@example.org>
# SPDX-License-Identifier: MIT
def util():
    return 1
