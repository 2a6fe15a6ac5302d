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
  ``alpha * S + mu * I`` with ``S = [X 1]^T [X 1] / n`` and ``alpha`` the mean loss
  curvature ``p (1 - p)`` at the start of a fit. Embeddings are far from isotropic (a
  common mean direction, a few dominant axes), which is what makes plain L-BFGS slow;
  this Gauss-Newton-style preconditioner removes that part of the ill-conditioning. The
  solver is given X in its principal axes (:mod:`fer_bench.probes.principal_axes`:
  centred, rotated onto the covariance's eigenvectors, an exact reparametrisation of the
  model), where S is diagonal: applying the preconditioner costs O(parameters).
- Changing C only changes the quadratic penalty, so curvature pairs collected at one C stay
  exact at the next after adding ``(mu' - mu) s_W`` to each ``y``: a regularisation sweep
  keeps its L-BFGS memory from one C to the next.
- With fewer samples than feature dimensions the optimum lies in the row space of the
  centred X, and the principal axes are then only those of that row space (``n`` of
  them): each pass over the data costs ``n^2`` instead of ``n d`` multiply-adds, and a
  few-shot support of 35 LBP histograms (2,891-d) is fitted in milliseconds.

**Stopping rule.** A fit stops when the largest gradient component of scikit-learn's own
objective ``F = C * sum_i loss_i + 0.5 ||W||^2 = C n f`` is at most ``gtol``. Because the
penalty makes ``F`` 1-strongly convex in W, ``||W - W*|| <= ||grad_W F||``: one ``gtol``
bounds the distance to the optimum by the same amount at every C. (scikit-learn applies its
``tol`` to the gradient of ``f = F / (C n)`` instead, so its bound on ``||W - W*||`` grows
like ``C n``; so did this solver's former test on the relative decrease of ``f``, which at
the top of a sweep accepted the warm start after 0-1 iterations.) At large C, ``gtol`` can
lie below what float32 arithmetic resolves (the gradient's rounding error grows like
``C n``). Two things then keep the fit going as far as the arithmetic allows, and no
further: the line search tests sufficient decrease on slopes once value differences are
below the rounding of ``f`` (Hager & Zhang's approximate Wolfe conditions, 2005), and the
fit stops (``"precision"``) after ``_STALL`` iterations without a smaller gradient during
which ``f`` moved by no more than its rounding error, or when no step decreases ``f``. The
iterations watch the gradient's largest component in the solver's coordinates; a fit
stops on ``gtol`` only once the gradient mapped back to the feature coordinates meets it
too, and the gradient it reports is always that one.

**Same answer whatever the thread count.** Every sum over samples is computed in an order
that does not depend on the number of threads. A fit runs on one CPU thread, where sums to
a scalar, products reduced over the samples (the gradient ``R^T X``, in row blocks added in
float64) and the small L-BFGS algebra (in float64) are done, as are the principal axes.
Only the work without a reduction over samples goes back to all
threads, and only for problems large enough to gain from it: ``X W^T`` (rows split
between threads, each row's dot product done whole) and the element-wise exp / log /
arithmetic of the loss (the binary model's log-loss is written with them, not with
softplus / sigmoid, whose vectorised and scalar code paths differ in the last bit at
thread-chunk boundaries). Switching the thread count costs little; switching it for every
small operation costs more than the operations (idle OpenMP workers must be woken up).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from contextlib import contextmanager

import torch

_C1, _C2 = 1e-4, 0.9  # Armijo and curvature constants of the strong Wolfe conditions
_REFRESH_EVERY = 10  # recompute the logits from scratch this often (incremental drift)
_BLOCK_ROWS = 4096  # row blocks of the sums over samples (accumulated in float64)
_STALL = 10  # iterations without a smaller gradient nor a decrease above rounding: stop
# Sizes from which row-parallel work goes back to all threads: products with X (n * dim
# multiply-adds per row of W) and element-wise work on the logits (n * classes elements).
# Below them waking idle OpenMP workers costs more than the work.
_PARALLEL_PRODUCT = 1 << 23
_PARALLEL_ELEMENTS = 1 << 20


@contextmanager
def one_thread(device: torch.device):
    """Run torch on one CPU thread inside the block (no-op on CUDA or with one thread):
    a reduction then adds its terms in the same order whatever ``torch.get_num_threads()``.
    Yields the thread count to restore (for :func:`all_threads` sections inside)."""
    threads = torch.get_num_threads()
    if device.type != "cpu" or threads == 1:
        yield threads
        return
    torch.set_num_threads(1)
    try:
        yield threads
    finally:
        torch.set_num_threads(threads)


@contextmanager
def all_threads(threads: int):
    """Inside :func:`one_thread`, give ``threads`` back for work without a reduction."""
    if threads == 1 or torch.get_num_threads() == threads:
        yield
        return
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(1)


def _sum64(t: torch.Tensor) -> float:
    """Sum of all entries in float64, in a thread-count independent order."""
    with one_thread(t.device):
        return float(t.sum(dtype=torch.float64))


def _dot(a: torch.Tensor, b: torch.Tensor) -> float:
    with one_thread(a.device):
        return float(torch.dot(a.to(torch.float64), b.to(torch.float64)))


def rows_product(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """``A^T B`` summed over the rows (samples) in fixed blocks, accumulated in float64."""
    out = torch.zeros(A.shape[1], B.shape[1], dtype=torch.float64, device=A.device)
    with one_thread(A.device):
        for start in range(0, A.shape[0], _BLOCK_ROWS):
            stop = start + _BLOCK_ROWS
            out += (A[start:stop].T @ B[start:stop]).to(torch.float64)
    return out


class LogisticSolver:
    """Holds the training data on its device and the L-BFGS memory across fits.

    ``y`` is a float 0/1 target for the binary model (one logit) or long class positions
    for the multinomial one (``rows`` logits). ``X`` is expected in principal axes
    (:mod:`fer_bench.probes.principal_axes`: centred, second moments diagonal) and
    ``variances`` its columns' mean squares there (computed from X when not given; those
    of nearly the same rows serve as well): the preconditioner is then diagonal.
    ``feature_gradient`` maps the gradient's (weights, intercepts) parts to the weights'
    gradient in the features' own coordinates, which the stopping rule and the reported
    gradient use (None: X is in those coordinates).
    """

    def __init__(self, X: torch.Tensor, y: torch.Tensor, rows: int, history: int = 10,
                 variances: torch.Tensor | None = None,
                 feature_gradient: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
                 | None = None):
        self.X, self.y, self.rows = X, y, rows
        self.feature_gradient = feature_gradient
        self.n, self.dim = X.shape
        self.history = history
        self._parallel_products = self.n * self.dim >= _PARALLEL_PRODUCT
        self._parallel_elements = self.n * rows >= _PARALLEL_ELEMENTS
        self._threads = 1  # threads given to the row-parallel work during a fit
        self._pairs: deque[tuple[torch.Tensor, torch.Tensor]] = deque(maxlen=history)
        self._mu: float | None = None
        self._alpha = 0.25
        if variances is None:
            with one_thread(X.device):
                variances = X.pow(2).sum(dim=0, dtype=torch.float64) / self.n
        if variances.shape != (self.dim,):
            raise ValueError(f"variances of {variances.shape[0]} axes cannot precondition "
                             f"{self.dim}-d features")
        # second moments of (weights, intercept) coordinates; the intercept's is 1
        self._moments = torch.cat([variances.to(X.device, torch.float64).clamp(min=0),
                                   torch.ones(1, dtype=torch.float64, device=X.device)])
        if rows > 1:
            self._onehot = torch.zeros(self.n, rows, dtype=X.dtype, device=X.device)
            self._onehot[torch.arange(self.n, device=X.device), y] = 1.0

    # -- objective pieces --------------------------------------------------------------
    def _split(self, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return (theta[: self.rows * self.dim].view(self.rows, self.dim),
                theta[self.rows * self.dim :])

    def _products(self):
        """Context of products with X (split by rows, no reduction over samples): all
        threads on large problems, the fit's single thread on small ones."""
        return all_threads(self._threads if self._parallel_products else 1)

    def _elementwise(self):
        """Context of element-wise work on the logits, as :meth:`_products`."""
        return all_threads(self._threads if self._parallel_elements else 1)

    def logits(self, theta: torch.Tensor) -> torch.Tensor:
        W, b = self._split(theta)
        with self._products():
            return torch.addmm(b, self.X, W.T)

    def _losses_and_residual(self, Z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-sample losses and their gradient with respect to Z (element-wise only)."""
        if self.rows == 1:  # log(1 + e^z) - y z, from exp and log only (see the module doc)
            z = Z[:, 0]
            top = z.clamp(min=0)
            low, high = (-top).exp_(), (z - top).exp_()
            norm = low + high
            loss = norm.log().add_(top).sub_(self.y * z)
            residual = high.div_(norm).sub_(self.y).unsqueeze(1)
        else:  # softmax by hand: torch.log_softmax over a short last dim is ~5x slower on CPU
            shifted = Z - Z.amax(dim=1, keepdim=True)
            probabilities = shifted.exp()
            norm = probabilities.sum(dim=1, keepdim=True)
            loss = norm.log().squeeze(1) - shifted.gather(1, self.y.unsqueeze(1)).squeeze(1)
            residual = probabilities.div_(norm).sub_(self._onehot)
        return loss, residual

    def _loss_and_residual(self, Z: torch.Tensor) -> tuple[float, torch.Tensor]:
        """Mean loss (float64 sum) and its gradient with respect to Z."""
        with self._elementwise():
            loss, residual = self._losses_and_residual(Z)
        return _sum64(loss) / self.n, residual

    def _objective(self, theta, Z, mu) -> tuple[float, torch.Tensor, torch.Tensor]:
        W, _ = self._split(theta)
        mean_loss, residual = self._loss_and_residual(Z)
        f = mean_loss + 0.5 * mu * _dot(W.ravel(), W.ravel())
        return f, self._gradient(theta, residual, mu), residual

    def _gradient(self, theta, residual, mu) -> torch.Tensor:
        W, _ = self._split(theta)
        grad_W = rows_product(residual, self.X).div_(self.n).add_(W.to(torch.float64), alpha=mu)
        with one_thread(residual.device):
            grad_b = residual.sum(dim=0, dtype=torch.float64).div_(self.n)
        return torch.cat([grad_W.ravel(), grad_b]).to(self.X.dtype)

    def objective(self, theta: torch.Tensor, C: float) -> float:
        mu = 1.0 / (C * self.n)
        with one_thread(self.X.device):
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
        """``(alpha S + mu I)^-1`` applied to each class's (weights, intercept) row, with S
        the diagonal second moments of the principal axes (float64 in, float64 out)."""
        k = self.rows * self.dim
        scale = 1.0 / (self._alpha * self._moments + self._mu)
        rows = torch.cat([v[:k].view(self.rows, self.dim), v[k:].unsqueeze(1)], dim=1) * scale
        return torch.cat([rows[:, : self.dim].ravel(), rows[:, self.dim]])

    def _direction(self, g: torch.Tensor) -> torch.Tensor:
        """``-H g`` by the two-loop recursion with the preconditioner as initial matrix
        (in float64, where the pairs are kept: no conversions inside the loop)."""
        with one_thread(g.device):
            q = g.to(torch.float64, copy=True)
            alphas = []
            for s, y in reversed(self._pairs):
                rho = 1.0 / float(torch.dot(y, s))
                a = rho * float(torch.dot(s, q))
                q.add_(y, alpha=-a)
                alphas.append((rho, a))
            # The preconditioner is the initial inverse Hessian as it is: it already has the
            # loss's curvature scale (alpha); the usual rescaling by s'y / y'Hy measured no
            # fewer iterations on LBP or CRS-CONT features.
            q = self._precondition(q)
            for (s, y), (rho, a) in zip(self._pairs, reversed(alphas)):
                b = rho * float(torch.dot(y, q))
                q.add_(s, alpha=a - b)
            return q.neg_().to(g.dtype)

    # -- the fit -----------------------------------------------------------------------
    def fit(self, theta: torch.Tensor, C: float, gtol: float,
            max_iter: int) -> tuple[torch.Tensor, float, int, float, str]:
        """Minimise from ``theta`` until the largest gradient component of scikit-learn's
        objective ``C n f`` is at most ``gtol``. Returns (theta, per-sample objective f,
        iterations, that largest gradient component at the returned theta, why it stopped):
        ``"tol"``; ``"precision"`` when float arithmetic cannot get the gradient lower (see
        the module doc); or ``"max_iter"``. Runs on one CPU thread but for the row-parallel
        work of large problems (module doc), so its result does not depend on the thread
        count."""
        with one_thread(self.X.device) as threads:
            self._threads = threads
            try:
                return self._fit(theta, C, gtol, max_iter)
            finally:
                self._threads = 1

    def _fit(self, theta, C, gtol, max_iter):
        mu = 1.0 / (C * self.n)
        scale = C * self.n  # d(sklearn's objective) = scale * d(f)
        self._retarget(mu)
        theta = theta.clone()
        Z = self.logits(theta)
        f, g, residual = self._objective(theta, Z, mu)
        # Mean curvature of the loss, p (1 - p), sets the preconditioner's data-to-penalty
        # balance.
        p = residual + self._onehot if self.rows > 1 else residual[:, 0] + self.y
        self._alpha = max(_sum64(p * (1 - p)) / p.numel(), 1e-6)
        n_iter = 0
        grad_max = scale * float(g.abs().max())
        best, since_best = grad_max, 0
        recent = deque([f], maxlen=_STALL + 1)  # f over the last _STALL iterations
        eps = torch.finfo(self.X.dtype).eps
        while True:
            if grad_max <= gtol:
                reported = self._feature_grad_max(g, scale, grad_max)
                if reported <= gtol:
                    return theta, f, n_iter, reported, "tol"
            if n_iter >= max_iter:
                return theta, f, n_iter, self._feature_grad_max(g, scale, grad_max), "max_iter"
            if since_best >= _STALL and recent[0] - f <= _STALL * eps * abs(f):
                # no smaller gradient and f moved by about its rounding error: stalled
                return theta, f, n_iter, self._feature_grad_max(g, scale, grad_max), "precision"
            d = self._direction(g)
            gtd = _dot(g, d)
            if gtd >= 0:  # not a descent direction (numerical breakdown): restart from -g
                self._pairs.clear()
                d, gtd = -g, -_dot(g, g)
            step = self._line_search(theta, Z, d, f, gtd, mu) if gtd < 0 else None
            if step is None:  # no decrease representable at this precision
                return theta, f, n_iter, self._feature_grad_max(g, scale, grad_max), "precision"
            t, A = step
            s = t * d
            theta += s
            n_iter += 1
            if n_iter % _REFRESH_EVERY == 0:
                Z = self.logits(theta)
            else:
                with self._elementwise():
                    Z.add_(A, alpha=t)
            f, g_new, _ = self._objective(theta, Z, mu)
            s64, y64 = s.to(torch.float64), g_new.to(torch.float64) - g.to(torch.float64)
            sy = float(torch.dot(s64, y64))
            if sy > 1e-10 * float(torch.dot(s64, s64) * torch.dot(y64, y64)) ** 0.5:
                self._pairs.append((s64, y64))
            g = g_new
            grad_max = scale * float(g.abs().max())
            best, since_best = (grad_max, 0) if grad_max < best else (best, since_best + 1)
            recent.append(f)

    def _feature_grad_max(self, g: torch.Tensor, scale: float, grad_max: float) -> float:
        """The largest gradient component of scikit-learn's objective in the feature
        coordinates: ``grad_max`` itself, or ``g``'s weight part mapped back by
        ``feature_gradient`` (the intercepts' part is the same in both)."""
        if self.feature_gradient is None:
            return grad_max
        g_W, g_b = self._split(g)
        mapped = self.feature_gradient(g_W, g_b).abs().max()
        largest = float(torch.maximum(mapped, g_b.abs().max()) if len(g_b) else mapped)
        return scale * largest

    def _line_search(self, theta, Z, d, f0, gtd0, mu):
        """Step t along d meeting the strong Wolfe conditions, using A = X dW^T + db so
        each trial is O(n K). Returns (t, A) or None when no step decreases f."""
        W, _ = self._split(theta)
        dW, db = self._split(d)
        with self._products():
            A = torch.addmm(db, self.X, dW.T)
        w_dw, dw_dw = _dot(W.ravel(), dW.ravel()), _dot(dW.ravel(), dW.ravel())
        w_w = _dot(W.ravel(), W.ravel())

        def phi(t):
            with self._elementwise():
                loss, residual = self._losses_and_residual(torch.add(Z, A, alpha=t))
                slopes = residual.mul_(A)
            value = _sum64(loss) / self.n + 0.5 * mu * (w_w + 2 * t * w_dw + t * t * dw_dw)
            slope = _sum64(slopes) / self.n + mu * (w_dw + t * dw_dw)
            return value, slope

        # Below the float resolution of f, differences of values are noise but slopes (sums
        # of residual * A) are still exact enough: there the sufficient-decrease test is
        # made on slopes (Hager & Zhang's approximate Wolfe conditions, 2005), which is
        # what lets weakly regularised fits get past the rounding of f.
        resolution = torch.finfo(self.X.dtype).eps * abs(f0)
        lo, hi, slope_lo, slope_hi = 0.0, None, gtd0, None
        t = 1.0
        for _ in range(40):
            value, slope = phi(t)
            decreased = value <= f0 + _C1 * t * gtd0 or (
                value <= f0 + resolution and slope <= (2 * _C1 - 1) * gtd0)
            if not decreased or slope > -_C2 * gtd0:
                hi, slope_hi = t, slope  # overshot: the minimum along d is before t
            elif slope < _C2 * gtd0:
                lo, slope_lo = t, slope  # still descending steeply: go further
            else:
                return t, A
            if hi is None:
                t *= 4.0
            else:  # secant on the (monotone) slope, kept inside the bracket
                width = hi - lo
                t = (lo - slope_lo * width / (slope_hi - slope_lo) if slope_hi != slope_lo
                     else lo + width / 2)
                t = min(max(t, lo + 0.1 * width), hi - 0.1 * width)
        return (lo, A) if lo > 0 else None
