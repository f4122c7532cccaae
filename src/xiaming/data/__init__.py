"""Data: names in, ids out. Reading name lists (`corpus`: encoding, blanks, duplicates, the built-in
corpora in `xiaming.corpora`, seeded splits), the vocabulary (`vocab.Vocab`: characters <-> ids,
the name boundary and the unknown character), padded id batches for training and scoring
(`batches`), and Chinese names' surnames and pinyin (`pinyin`). The floor every other one reads;
it imports nothing of theirs.
"""
