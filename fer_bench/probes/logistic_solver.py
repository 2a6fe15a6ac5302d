"""L-BFGS for L2-regularised logistic regression, specialised to linear models.

Minimises the per-sample objective ``f(W, b) = mean_i loss(W x_i + b, y_i) + mu/2 ||W||^2``
with ``mu = 1 / (C n)`` (scikit-learn's objective divided by ``C n``). Three properties of a
linear model make it much cheaper than a generic L-BFGS (``torch.optim.LBFGS`` or scipy's):

- Along a search direction ``(dW, db)`` the logits move linearly, ``Z(t) = Z + t A`` with
  ``A = X dW^T + db``. One pass over X gives A; every line-search trial after that costs
  O(n K) instead of a pass over X, so an iteration costs two passes (A and the gradient)
  however many trials its line search takes, and the line search can afford to be exact
  enough to satisfy the strong Wolfe conditions on the directional derivative.
- The feature covariance is known: L-BFGS's initial inverse Hessian is the inverse of
  ``alpha * S + mu * I`` with ``S = [X 1]^T [X 1] / n`` (computed once, eigendecomposed,
  so applying it for any mu costs two small products) and ``alpha`` the mean loss
  curvature ``p (1 - p)`` at the start of a fit. Embeddings are far from isotropic (a
  common mean direction, a few dominant axes), which is what makes plain L-BFGS slow;
  this Gauss-Newton-style preconditioner removes that part of the ill-conditioning.
- Changing C only changes the quadratic penalty, so curvature pairs collected at one C stay
  exact at the next after adding ``(mu' - mu) s_W`` to each ``y``: a regularisation sweep
  keeps its L-BFGS memory from one C to the next.

Convergence is tested on the *relative* size of the predicted remaining decrease (the
L-BFGS Newton decrement ``-g.d / 2``) and of the last achieved decrease, both against
``rtol * f``, so one tolerance means the same at C = 1e-3 and C = 1e4; a plain gradient
threshold (scikit-learn's ``tol``) stops far from the optimum at large C, where ``mu`` is
tiny and small gradients still hide large decreases.
"""

from __future__ import annotations

from collections import deque

import torch

_C1, _C2 = 1e-4, 0.9  # Armijo and curvature constants of the strong Wolfe conditions
_REFRESH_EVERY = 10  # recompute the logits from scratch this often (incremental drift)


def augmented_gram(X: torch.Tensor) -> torch.Tensor:
    """``[X 1]^T [X 1]`` in float64 (sums, not means, so blocks of rows add up)."""
    dim = X.shape[1]
    gram = torch.empty(dim + 1, dim + 1, dtype=torch.float64, device=X.device)
    gram[:dim, :dim] = (X.T @ X).to(torch.float64)
    column = X.sum(dim=0, dtype=torch.float64)
    gram[:dim, dim] = column
    gram[dim, :dim] = column
    gram[dim, dim] = X.shape[0]
    return gram


class LogisticSolver:
    """Holds the training data on its device and the L-BFGS memory across fits.

    ``y`` is a float 0/1 target for the binary model (one logit) or long class positions
    for the multinomial one (``rows`` logits). ``gram`` (see :func:`augmented_gram`) can be
    passed when known, e.g. summed from the train and validation parts for a refit.
    """

    def __init__(
        self, X: torch.Tensor, y: torch.Tensor, rows: int, history: int = 10, gram: torch.Tensor | None = None
    ):
        self.X, self.y, self.rows = X, y, rows
        self.n, self.dim = X.shape
        self.history = history
        self._pairs: deque[tuple[torch.Tensor, torch.Tensor]] = deque(maxlen=history)
        self._mu: float | None = None
        self._alpha = 0.25
        self.gram = augmented_gram(X) if gram is None else gram.to(X.device, torch.float64)
        eigenvalues, eigenvectors = torch.linalg.eigh(self.gram / self.n)
        self._eigenvalues = eigenvalues.clamp_(min=0).to(X.dtype)
        self._eigenvectors = eigenvectors.to(X.dtype)
        if rows > 1:
            self._onehot = torch.zeros(self.n, rows, dtype=X.dtype, device=X.device)
            self._onehot[torch.arange(self.n, device=X.device), y] = 1.0

    # -- objective pieces --------------------------------------------------------------
    def _split(self, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return theta[: self.rows * self.dim].view(self.rows, self.dim), theta[self.rows * self.dim :]

    def logits(self, theta: torch.Tensor) -> torch.Tensor:
        W, b = self._split(theta)
        return torch.addmm(b, self.X, W.T)

    def _loss_and_residual(self, Z: torch.Tensor) -> tuple[float, torch.Tensor]:
        """Mean loss (float64 sum) and its gradient with respect to Z, times n."""
        if self.rows == 1:
            z = Z[:, 0]
            loss = torch.nn.functional.softplus(z) - self.y * z
            residual = (torch.sigmoid(z) - self.y).unsqueeze(1)
        else:  # softmax by hand: torch.log_softmax over a short last dim is ~5x slower on CPU
            shifted = Z - Z.amax(dim=1, keepdim=True)
            probabilities = shifted.exp()
            norm = probabilities.sum(dim=1, keepdim=True)
            loss = norm.log().squeeze(1) - shifted.gather(1, self.y.unsqueeze(1)).squeeze(1)
            residual = probabilities.div_(norm).sub_(self._onehot)
        return float(loss.sum(dtype=torch.float64)) / self.n, residual

    def _objective(self, theta, Z, mu) -> tuple[float, torch.Tensor, torch.Tensor]:
        W, _ = self._split(theta)
        mean_loss, residual = self._loss_and_residual(Z)
        f = mean_loss + 0.5 * mu * float(torch.dot(W.ravel(), W.ravel()))
        return f, self._gradient(theta, residual, mu), residual

    def _gradient(self, theta, residual, mu) -> torch.Tensor:
        W, _ = self._split(theta)
        grad_W = torch.addmm(W, residual.T, self.X, beta=mu, alpha=1.0 / self.n)
        return torch.cat([grad_W.ravel(), residual.sum(dim=0) / self.n])

    def objective(self, theta: torch.Tensor, C: float) -> float:
        mu = 1.0 / (C * self.n)
        return self._objective(theta, self.logits(theta), mu)[0]

    # -- L-BFGS memory -----------------------------------------------------------------
    def _retarget(self, mu: float) -> None:
        """Make the stored curvature pairs exact for a new penalty ``mu``."""
        if self._mu is not None and mu != self._mu:
            kept = []
            for s, y in self._pairs:
                y = y.clone()
                y[: self.rows * self.dim] += (mu - self._mu) * s[: self.rows * self.dim]
                if float(torch.dot(s, y)) > 0:
                    kept.append((s, y))
            self._pairs = deque(kept, maxlen=self.history)
        self._mu = mu

    def _precondition(self, v: torch.Tensor) -> torch.Tensor:
        """``(alpha S + mu I)^-1`` applied to each class's (weights, intercept) row."""
        k = self.rows * self.dim
        rows = torch.cat([v[:k].view(self.rows, self.dim), v[k:].unsqueeze(1)], dim=1)
        scale = 1.0 / (self._alpha * self._eigenvalues + self._mu)
        rows = ((rows @ self._eigenvectors) * scale) @ self._eigenvectors.T
        return torch.cat([rows[:, : self.dim].ravel(), rows[:, self.dim]])

    def _direction(self, g: torch.Tensor) -> torch.Tensor:
        """``-H g`` by the two-loop recursion with the preconditioner as initial matrix."""
        if not self._pairs:
            return -self._precondition(g)
        q = g.clone()
        alphas = []
        for s, y in reversed(self._pairs):
            rho = 1.0 / float(torch.dot(y, s))
            a = rho * float(torch.dot(s, q))
            q.add_(y, alpha=-a)
            alphas.append((rho, a))
        s, y = self._pairs[-1]
        q = self._precondition(q) * (float(torch.dot(s, y)) / float(torch.dot(y, self._precondition(y))))
        for (s, y), (rho, a) in zip(self._pairs, reversed(alphas)):
            b = rho * float(torch.dot(y, q))
            q.add_(s, alpha=a - b)
        return q.neg_()

    # -- the fit -----------------------------------------------------------------------
    def fit(self, theta: torch.Tensor, C: float, rtol: float, max_iter: int) -> tuple[torch.Tensor, float, int]:
        """Minimise from ``theta``; returns (theta, per-sample objective, iterations)."""
        mu = 1.0 / (C * self.n)
        self._retarget(mu)
        theta = theta.clone()
        Z = self.logits(theta)
        f, g, residual = self._objective(theta, Z, mu)
        # Mean curvature of the loss, p (1 - p), sets the preconditioner's data-to-penalty balance.
        p = residual + self._onehot if self.rows > 1 else residual[:, 0] + self.y
        self._alpha = max(float((p * (1 - p)).mean()), 1e-6)
        n_iter = 0
        while n_iter < max_iter:
            d = self._direction(g)
            gtd = float(torch.dot(g, d))
            if gtd >= 0:  # not a descent direction (numerical breakdown): restart from -g
                self._pairs.clear()
                d, gtd = -g, -float(torch.dot(g, g))
                if gtd == 0:
                    break
            if self._pairs and -gtd / 2 <= rtol * abs(f):
                break  # predicted remaining decrease is negligible
            step = self._line_search(theta, Z, d, f, gtd, mu)
            if step is None:
                break  # no decrease representable at this precision
            t, A = step
            s = t * d
            theta += s
            n_iter += 1
            Z = self.logits(theta) if n_iter % _REFRESH_EVERY == 0 else Z.add_(A, alpha=t)
            f_new, g_new, _ = self._objective(theta, Z, mu)
            y = g_new - g
            if float(torch.dot(s, y)) > 1e-10 * float(s.norm() * y.norm()):
                self._pairs.append((s, y))
            decrease = f - f_new
            f, g = f_new, g_new
            if 0 <= decrease <= rtol * abs(f) and -gtd / 2 <= 10 * rtol * abs(f):
                break  # both the achieved and the predicted decrease are negligible
        return theta, f, n_iter

    def _line_search(self, theta, Z, d, f0, gtd0, mu):
        """Step t along d meeting the strong Wolfe conditions, using A = X dW^T + db so
        each trial is O(n K). Returns (t, A) or None when no step decreases f."""
        W, _ = self._split(theta)
        dW, db = self._split(d)
        A = torch.addmm(db, self.X, dW.T)
        w_dw, dw_dw = float(torch.dot(W.ravel(), dW.ravel())), float(torch.dot(dW.ravel(), dW.ravel()))
        w_w = float(torch.dot(W.ravel(), W.ravel()))

        def phi(t):
            mean_loss, residual = self._loss_and_residual(Z + t * A)
            value = mean_loss + 0.5 * mu * (w_w + 2 * t * w_dw + t * t * dw_dw)
            slope = float((residual * A).sum(dtype=torch.float64)) / self.n + mu * (w_dw + t * dw_dw)
            return value, slope

        lo, hi, slope_lo, slope_hi = 0.0, None, gtd0, None
        t = 1.0
        for _ in range(40):
            value, slope = phi(t)
            if value > f0 + _C1 * t * gtd0 or slope > -_C2 * gtd0:
                hi, slope_hi = t, slope  # overshot: the minimum along d is before t
            elif slope < _C2 * gtd0:
                lo, slope_lo = t, slope  # still descending steeply: go further
            else:
                return t, A
            if hi is None:
                t *= 4.0
            else:  # secant on the (monotone) slope, kept inside the bracket
                width = hi - lo
                t = lo - slope_lo * width / (slope_hi - slope_lo) if slope_hi != slope_lo else lo + width / 2
                t = min(max(t, lo + 0.1 * width), hi - 0.1 * width)
        return (lo, A) if lo > 0 else None
