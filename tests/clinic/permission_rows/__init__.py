"""The role matrix's rows: ``table`` says what a row is; each newer wing keeps its rows in a module of its own.

``tests/clinic/test_permission_matrix.py`` adds each wing's ``ROWS`` to its
table, and each wing's ``world(objects)`` adds the keys its rows name
(``objects`` holds the matrix's users by role, site, chair, patients, course
and session), so a wing's rows and the data they need live side by side.
"""
