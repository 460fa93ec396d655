"""The source articles' code examples, reproduced as they were given and then corrected.

Each module reproduces one article's example line by line, its bugs intact
and documented, next to a corrected version, so that a chapter can run the
original, show what fails and why, and then run the fix. Module names give
the article and the example: ``article_001_xor`` is article 001's NumPy XOR
network (section 4.1), taught in chapter 05.
"""
