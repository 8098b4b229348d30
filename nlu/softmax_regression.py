"""Multinomial logistic regression over a sparse and a dense block of features kept apart.

The linear half of the intent blend reads TF-IDF n-grams (about 77 of 34,000 columns set per message) and a
512-number sentence vector (every column set). In one sparse matrix, as scikit-learn's LogisticRegression needs
them, the sentence vectors were 87 % of the entries that every step of the fit multiplied, one by one; here the
n-grams stay sparse and the vectors go through a dense matrix product. The loss, the penalty and the solver are
LogisticRegression's (multinomial, L2, L-BFGS with the same stopping rule), so the fit ends where its fit ends,
in a fraction of the time (docs/nlu.md, "Blending in a linear model").
"""

from __future__ import annotations

from typing import Any, NamedTuple, Sequence

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import logsumexp, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin


class Blocks(NamedTuple):
    """One row per message in each block."""

    sparse: sp.csr_matrix
    dense: np.ndarray


class SideBySide(BaseEstimator, TransformerMixin):
    """A sparse transformer's and (optionally) a dense transformer's output for the same rows, as `Blocks`."""

    def __init__(self, sparse_features: Any, dense_features: Any = None) -> None:
        self.sparse_features = sparse_features
        self.dense_features = dense_features

    def fit(self, rows: Sequence[Any], y: Any = None) -> SideBySide:
        self.sparse_features.fit(rows)
        if self.dense_features is not None:
            self.dense_features.fit(rows)
        return self

    def transform(self, rows: Sequence[Any]) -> Blocks:
        dense = (np.zeros((len(rows), 0)) if self.dense_features is None
                 else self.dense_features.transform(rows))
        return Blocks(sp.csr_matrix(self.sparse_features.transform(rows), dtype=np.float64),
                      np.ascontiguousarray(dense, dtype=np.float64))


class SoftmaxRegression(BaseEstimator, ClassifierMixin):
    """Multinomial logistic regression with an L2 penalty of 1 / C on the weights (not the intercepts), fitted by
    L-BFGS from zeros until the largest gradient entry is under `tol` or after `max_iter` iterations."""

    def __init__(self, C: float = 1.0, tol: float = 1e-4, max_iter: int = 3000) -> None:
        self.C = C
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, blocks: Blocks, labels: Sequence[str]) -> SoftmaxRegression:
        self.classes_, label_index = np.unique(np.asarray(labels), return_inverse=True)
        truth = np.eye(len(self.classes_))[label_index]
        n_classes, self.n_sparse_ = len(self.classes_), blocks.sparse.shape[1]
        n_weights = (self.n_sparse_ + blocks.dense.shape[1]) * n_classes
        penalty = 1.0 / self.C
        sparse_t, dense_t = blocks.sparse.T.tocsr(), blocks.dense.T

        def loss_and_gradient(flat: np.ndarray) -> tuple[float, np.ndarray]:
            weights, intercept = flat[:n_weights].reshape(-1, n_classes), flat[n_weights:]
            scores = blocks.sparse @ weights[: self.n_sparse_] + blocks.dense @ weights[self.n_sparse_:] + intercept
            log_p = scores - logsumexp(scores, axis=1, keepdims=True)
            residual = np.exp(log_p) - truth
            loss = -np.einsum("ij,ij->", truth, log_p) + 0.5 * penalty * np.einsum("ij,ij->", weights, weights)
            gradient = np.empty_like(flat)
            gradient_weights = gradient[:n_weights].reshape(-1, n_classes)
            gradient_weights[: self.n_sparse_] = sparse_t @ residual
            gradient_weights[self.n_sparse_:] = dense_t @ residual
            gradient_weights += penalty * weights
            gradient[n_weights:] = residual.sum(axis=0)
            return float(loss), gradient

        result = minimize(loss_and_gradient, np.zeros(n_weights + n_classes), method="L-BFGS-B", jac=True,
                          options={"gtol": self.tol, "maxiter": self.max_iter})
        self.n_iter_ = result.nit
        self.weights_ = result.x[:n_weights].reshape(-1, n_classes)
        self.intercept_ = result.x[n_weights:]
        return self

    def predict_proba(self, blocks: Blocks) -> np.ndarray:
        """Without BLAS: one message's vector times the weights is 26,624 multiplications, for which BLAS woke a
        second thread that then spun, doubling the Rasa server's CPU time per message (43 vs 25 ms)."""
        dense = np.einsum("ij,jk->ik", blocks.dense, self.weights_[self.n_sparse_:])
        return softmax(blocks.sparse @ self.weights_[: self.n_sparse_] + dense + self.intercept_, axis=1)

    def predict(self, blocks: Blocks) -> np.ndarray:
        return self.classes_[self.predict_proba(blocks).argmax(axis=1)]
