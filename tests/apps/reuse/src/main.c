// SPDX-FileCopyrightText: 2020 Ann Example <ann@example.org>
// SPDX-License-Identifier: Apache-2.0
int main(void) { return 0; }
