"""Peer side of bench_embed.py's SGNS row: gensim Word2Vec on walks saved as .npy (peers' venv).

usage: python peer_gensim.py WALKS.npy [--dim 128 --window 10 --negative 5]
Prints one ``RESULT {json}`` line: tokens, seconds of Word2Vec training (vocabulary build timed
separately) and tokens/s.
"""

import argparse
import json
import time

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("walks")
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--window", type=int, default=10)
    ap.add_argument("--negative", type=int, default=5)
    args = ap.parse_args()
    from gensim.models import Word2Vec
    import gensim

    w = np.load(args.walks)
    sentences = [[str(x) for x in row[row >= 0]] for row in w]
    tokens = int((w >= 0).sum())
    model = Word2Vec(vector_size=args.dim, window=args.window, negative=args.negative, sg=1, workers=2,
                     epochs=1, min_count=0, seed=0)
    t0 = time.perf_counter()
    model.build_vocab(sentences)
    t_vocab = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.train(sentences, total_examples=len(sentences), epochs=1)
    t_train = time.perf_counter() - t0
    print("RESULT " + json.dumps(dict(tool=f"gensim {gensim.__version__} Word2Vec sg=1 workers=2",
                                      tokens=tokens, vocab_s=t_vocab, train_s=t_train,
                                      tokens_per_s=tokens / t_train)), flush=True)


if __name__ == "__main__":
    main()
