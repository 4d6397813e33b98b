"""The small text the next-character task trains on: written for this project (no download,
no licence to track), short sentences over a few dozen characters so a tiny model learns its
spelling and rhythm within a minute, and sampling shows what temperature does."""

from __future__ import annotations

TEXT = (
    "the cat sat on the mat. the dog sat on the log. the cat saw the dog and the dog saw "
    "the cat. a bird sang in the tree and the cat looked up. the dog ran to the tree. "
    "the bird flew away. the sun was warm and the grass was green. the cat slept in the "
    "sun. the dog dug a hole by the gate. a fox came to the gate at night. the dog barked "
    "and the fox ran back to the wood. in the morning the cat ate fish and the dog ate "
    "bread. the bird came back to the tree and sang a new song. the rain fell on the roof "
    "and the cat sat by the fire. the dog lay on the rug. the wind blew the leaves off the "
    "tree. a boy came down the road with a red kite. the kite rose high over the hill. "
    "the dog ran after the kite and the boy ran after the dog. the cat did not run. the "
    "cat sat on the wall and looked at them. the girl had a blue boat. she put the boat "
    "on the pond and the wind took it to the other side. the dog swam after the boat. the "
    "girl laughed. the boy laughed. the cat did not laugh. the sun went down and the sky "
    "was red. the bird sang one more song. the fox came to the gate again. the dog was "
    "asleep. the cat was not. the cat saw the fox and the fox saw the cat. the fox went "
    "back to the wood. the moon rose over the hill. the stars came out one by one. the "
    "boy and the girl went to bed. the dog slept by the door and the cat slept on the "
    "mat. in the morning the bird sang and the sun came up. the boy took his kite and the "
    "girl took her boat. the dog ran to the pond. the cat sat on the mat and did not move. "
    "a frog sat on a stone in the pond. the frog saw the boat and jumped in the water. the "
    "dog saw the frog and barked. the frog swam away. the girl put her hand in the water "
    "and it was cold. the boy sat on the grass and ate an apple. the apple was sweet. the "
    "dog wanted the apple too. the boy gave the dog a piece. the cat wanted fish. there "
    "was no fish. the cat went home. the day was long and the sun was hot. the bird sat "
    "in the shade of the tree. the fox slept in the wood. at the end of the day the boy, "
    "the girl, the dog and the cat sat by the fire and the rain fell on the roof again."
)
