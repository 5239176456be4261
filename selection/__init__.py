"""The working groups' draw: stratified sortition per group (sortition-algorithms), reserves, replacements.

Pure: it takes applicants as plain data and gives a `Draw` back; storage keeps the result, the staff
commands (bot/cli/groups.py) wire the two. The library is GPL-3.0 and heavy, so it is the optional extra
`wspolnota[selection]`, imported only inside the draw.
"""
