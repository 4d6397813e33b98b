// The fused training step for small dense nets: forward, loss, backward, penalties,
// clipping, the optimizer's update and the per-step measurements in one call, on the
// memory of the PyTorch parameters (no ATen op per layer: at batch 10 an eager step is
// ~50 ATen calls of ~3 us each; this is a few microseconds of arithmetic).
//
// The math mirrors what the eager path runs, operation for operation where it matters
// for rounding: torch's fused CPU SGD and Adam/AdamW kernels (scalar path), the foreach
// RMSprop, clip_grad_norm_ (coef = max / (norm + 1e-6), clamped to 1), autograd's
// penalty gradients (L1: l1*sign(w), L2: l2*w) and the decoupled decay p *= 1 - lr*wd.
// Randomness (dropout masks) comes in from Python, drawn by the same torch calls as the
// eager path. app/nn/fused/plan.py decides what may run here; everything else runs eager.
#include <torch/extension.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace {

enum Act : int { RELU = 0, LEAKY, ELU, GELU, SILU, SOFTPLUS, TANH, SIGMOID, LINEAR };
enum LossKind : int { BCE = 0, CE, MSE, MSE_SIGMOID, MSE_SOFTMAX, HUBER, L1LOSS };
enum OptKind : int { SGD = 0, ADAM, ADAMW, RMSPROP };
enum Clip : int { NO_CLIP = 0, CLIP_NORM, CLIP_VALUE };

constexpr float kLnEps = 1e-5f;  // nn.LayerNorm's default

inline float sigmoidf(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// tanh as a rational function (the minimax coefficients of Eigen's float tanh, MPL-2.0;
// clamped at +-7.9988):
// within ~1 ulp on average (max 6.5 ulp near saturation, where the slope is ~0) of the
// exact value, like torch's own vectorised tanh, and it vectorises, where a libm call per
// element cost half of a [8, 8] tanh step.
inline float fast_tanh(float x) {
  const float c = 7.99881172180175781f;
  const float xc = std::min(std::max(x, -c), c);
  const float x2 = xc * xc;
  float p = x2 * -2.76076847742355e-16f + 2.00018790482477e-13f;
  p = x2 * p + -8.60467152213735e-11f;
  p = x2 * p + 5.12229709037114e-08f;
  p = x2 * p + 1.48572235717979e-05f;
  p = x2 * p + 6.37261928875436e-04f;
  p = x2 * p + 4.89352455891786e-03f;
  p = xc * p;
  float q = x2 * 1.19825839466702e-06f + 1.18534705686654e-04f;
  q = x2 * q + 2.26843463243900e-03f;
  q = x2 * q + 4.89352518554385e-03f;
  return std::fabs(x) < 0.0004f ? x : p / q;
}

inline float act_forward(int act, float x) {
  switch (act) {
    case RELU: return x > 0.0f ? x : 0.0f;
    case LEAKY: return x > 0.0f ? x : x * 0.01f;
    case ELU: return x > 0.0f ? x : std::expm1(x);
    case GELU: return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f));
    case SILU: return x / (1.0f + std::exp(-x));
    case SOFTPLUS: return x > 20.0f ? x : std::log1p(std::exp(x));
    case TANH: return fast_tanh(x);
    case SIGMOID: return sigmoidf(x);
    default: return x;
  }
}

// One activation over n values: the switch outside the loop, so the loop vectorises.
void act_forward_n(int act, const float* x, float* y, int64_t n) {
  switch (act) {
    case TANH:
      for (int64_t i = 0; i < n; ++i) y[i] = fast_tanh(x[i]);
      return;
    case RELU:
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
      return;
    case LINEAR:
      std::copy(x, x + n, y);
      return;
    default:
      for (int64_t i = 0; i < n; ++i) y[i] = act_forward(act, x[i]);
  }
}

// d act / d input, from the input x and the output y (whichever the formula needs).
inline float act_grad(int act, float x, float y) {
  switch (act) {
    case RELU: return y > 0.0f ? 1.0f : 0.0f;
    case LEAKY: return x > 0.0f ? 1.0f : 0.01f;
    case ELU: return x > 0.0f ? 1.0f : std::exp(x);
    case GELU: {
      float cdf = 0.5f * (1.0f + std::erf(x * 0.70710678118654752f));
      float pdf = std::exp(-0.5f * x * x) * 0.39894228040143268f;
      return cdf + x * pdf;
    }
    case SILU: {
      float s = sigmoidf(x);
      return s * (1.0f + x * (1.0f - s));
    }
    case SOFTPLUS: {
      if (x > 20.0f) return 1.0f;
      float z = std::exp(x);
      return z / (z + 1.0f);
    }
    case TANH: return 1.0f - y * y;
    case SIGMOID: return (1.0f - y) * y;
    default: return 1.0f;
  }
}

struct Layer {
  int64_t n_in = 0, n_out = 0;
  int act = LINEAR;
  bool residual = false, ln = false;
  float drop_scale = 0.0f;  // 1/(1-p) as torch computes it; 0 = no dropout
  float *W = nullptr, *b = nullptr, *gamma = nullptr, *beta = nullptr;
  float *gW = nullptr, *gb = nullptr, *ggamma = nullptr, *gbeta = nullptr;
  std::vector<float> z, xhat, rstd, pre, a, out;  // per batch: B x n_out (rstd: B)
  const float* in = nullptr;                      // the layer's input (B x n_in)
  const float* mask = nullptr;                    // dropout keep mask (B x n_out)
};

struct Slot {  // one parameter tensor as the optimizer sees it
  float* p;
  float* g;
  int64_t n;
  float *s1, *s2, *s3;  // optimizer state (meaning depends on the optimizer)
  bool decay;           // a Linear weight: penalties, decoupled decay, update norms
};

double sumsq(const float* v, int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += double(v[i]) * double(v[i]);
  return s;
}

class Net {
 public:
  Net(std::vector<at::Tensor> weights, std::vector<at::Tensor> biases,
      std::vector<at::Tensor> gammas, std::vector<at::Tensor> betas,
      std::vector<int64_t> acts, std::vector<int64_t> residual, std::vector<double> dropout,
      std::vector<at::Tensor> grads, std::vector<at::Tensor> states, int64_t opt,
      int64_t loss, int64_t classes)
      : keep_(), opt_(int(opt)), loss_(int(loss)), classes_(classes) {
    const size_t nl = weights.size();
    layers_.resize(nl);
    for (size_t l = 0; l < nl; ++l) {
      Layer& L = layers_[l];
      L.n_out = weights[l].size(0);
      L.n_in = weights[l].size(1);
      L.act = int(acts[l]);
      L.residual = residual[l] != 0;
      L.W = ptr(weights[l]);
      L.b = ptr(biases[l]);
      L.ln = gammas[l].numel() > 0;
      if (L.ln) {
        L.gamma = ptr(gammas[l]);
        L.beta = ptr(betas[l]);
      }
      // torch: noise.div_(1 - p) on a float tensor, i.e. 1.0f / float(1 - p)
      L.drop_scale = dropout[l] > 0.0 ? 1.0f / float(1.0 - dropout[l]) : 0.0f;
    }
    // Slots in StepMeter's order: weights, biases, then the LayerNorm (gamma, beta) pairs.
    std::vector<std::pair<float*, bool>> params;
    for (auto& L : layers_) params.push_back({L.W, true});
    for (auto& L : layers_) params.push_back({L.b, false});
    for (auto& L : layers_)
      if (L.ln) {
        params.push_back({L.gamma, false});
        params.push_back({L.beta, false});
      }
    TORCH_CHECK(grads.size() == params.size(), "one gradient buffer per parameter");
    TORCH_CHECK(states.size() == 3 * params.size(), "three state buffers per parameter");
    for (size_t i = 0; i < params.size(); ++i) {
      Slot s{params[i].first, ptr(grads[i]), grads[i].numel(), opt_ptr(states[3 * i]),
             opt_ptr(states[3 * i + 1]), opt_ptr(states[3 * i + 2]), params[i].second};
      slots_.push_back(s);
    }
    size_t gi = 0;
    for (auto& L : layers_) L.gW = slots_[gi++].g;
    for (auto& L : layers_) L.gb = slots_[gi++].g;
    for (auto& L : layers_)
      if (L.ln) {
        L.ggamma = slots_[gi++].g;
        L.gbeta = slots_[gi++].g;
      }
    for (auto& L : layers_) before_.emplace_back(L.n_out * L.n_in);
    for (auto& t : weights) keep_.push_back(t);
    for (auto& t : biases) keep_.push_back(t);
    for (auto& t : gammas) keep_.push_back(t);
    for (auto& t : betas) keep_.push_back(t);
    for (auto& t : grads) keep_.push_back(t);
    for (auto& t : states) keep_.push_back(t);
  }

  // Hyper-parameters that may change between steps (live tuning).
  void configure(double momentum, double dampening, bool nesterov, double beta1, double beta2,
                 double eps, bool amsgrad, double alpha, bool centered, double l1, double l2,
                 double weight_decay, int64_t clip, double clip_max, double smoothing,
                 double delta) {
    momentum_ = momentum;
    dampening_ = dampening;
    nesterov_ = nesterov;
    beta1_ = beta1;
    beta2_ = beta2;
    eps_ = eps;
    amsgrad_ = amsgrad;
    alpha_ = alpha;
    centered_ = centered;
    l1_ = l1;
    l2_ = l2;
    wd_ = weight_decay;
    clip_ = int(clip);
    clip_max_ = clip_max;
    smoothing_ = smoothing;
    delta_ = delta;
  }

  // One optimizer step on a batch. Returns [loss, penalty, grad norm after clipping,
  // grad norm, grad norms per slot..., update ratio per weight..., weight norm per weight...].
  std::vector<double> step(const at::Tensor& x, const at::Tensor& y, double lr,
                           const std::vector<at::Tensor>& masks) {
    TORCH_CHECK(x.is_contiguous() && x.scalar_type() == at::kFloat, "x: contiguous float32");
    TORCH_CHECK(y.is_contiguous() && y.scalar_type() == at::kFloat, "y: contiguous float32");
    TORCH_CHECK(x.dim() == 2 && x.size(1) == layers_[0].n_in, "x: wrong feature count");
    TORCH_CHECK(y.numel() == x.size(0), "y: one target per row");
    return run(x.data_ptr<float>(), y.data_ptr<float>(), x.size(0), lr, masks);
  }

  // The training set once, then per epoch its order (torch.randperm's): a step names its
  // rows by position in that order, so no batch tensor is made per step.
  void set_data(const at::Tensor& x, const at::Tensor& y) {
    TORCH_CHECK(x.is_contiguous() && x.scalar_type() == at::kFloat, "x: contiguous float32");
    TORCH_CHECK(y.is_contiguous() && y.scalar_type() == at::kFloat, "y: contiguous float32");
    TORCH_CHECK(x.dim() == 2 && x.size(1) == layers_[0].n_in, "x: wrong feature count");
    TORCH_CHECK(y.numel() == x.size(0), "y: one target per row");
    data_x_ = x;
    data_y_ = y;
  }

  void set_order(const at::Tensor& order) {
    TORCH_CHECK(order.is_contiguous() && order.scalar_type() == at::kLong, "order: int64");
    TORCH_CHECK(order.numel() == data_y_.numel(), "order: a permutation of the data");
    order_ = order;
  }

  std::vector<double> step_rows(int64_t start, int64_t count, double lr,
                                const std::vector<at::Tensor>& masks) {
    TORCH_CHECK(order_.defined() && start >= 0 && count > 0 && start + count <= order_.numel(),
                "rows outside the epoch's order");
    const int64_t F = layers_[0].n_in, N = data_y_.numel();
    const int64_t* idx = order_.data_ptr<int64_t>() + start;
    const float* X = data_x_.data_ptr<float>();
    const float* Y = data_y_.data_ptr<float>();
    bx_.resize(count * F);
    by_.resize(count);
    for (int64_t r = 0; r < count; ++r) {
      const int64_t i = idx[r];
      TORCH_CHECK(i >= 0 && i < N, "order: index out of range");
      std::copy(X + i * F, X + (i + 1) * F, bx_.begin() + r * F);
      by_[r] = Y[i];
    }
    return run(bx_.data(), by_.data(), count, lr, masks);
  }

 private:
  std::vector<double> run(const float* x, const float* y, int64_t B, double lr,
                          const std::vector<at::Tensor>& masks) {
    size_t mi = 0;
    for (auto& L : layers_) {
      L.mask = nullptr;
      if (L.drop_scale > 0.0f) {
        TORCH_CHECK(mi < masks.size(), "one dropout mask per dropout layer");
        const at::Tensor& m = masks[mi++];
        TORCH_CHECK(m.is_contiguous() && m.scalar_type() == at::kFloat &&
                        m.numel() == B * L.n_out,
                    "dropout mask: B x units float32");
        L.mask = m.data_ptr<float>();
      }
    }
    forward(x, B);
    const double loss = loss_and_grad(y, B);
    backward(B);
    const double penalty = penalize();

    const size_t np = slots_.size(), nl = layers_.size();
    std::vector<double> rec(4 + np + 2 * nl, 0.0);
    rec[0] = loss;
    rec[1] = penalty;
    double total = 0.0;
    for (size_t i = 0; i < np; ++i) {
      double s = sumsq(slots_[i].g, slots_[i].n);
      total += s;
      rec[4 + i] = std::sqrt(s);
    }
    rec[3] = std::sqrt(total);
    rec[2] = clip_grads(float(std::sqrt(total)));
    for (size_t l = 0; l < nl; ++l)
      std::copy(layers_[l].W, layers_[l].W + before_[l].size(), before_[l].begin());
    if (opt_ != ADAMW && wd_ != 0.0) {  // the trainer's decoupled decay (AdamW: in-kernel)
      const float f = float(1.0 - lr * wd_);
      for (auto& s : slots_)
        if (s.decay)
          for (int64_t k = 0; k < s.n; ++k) s.p[k] = s.p[k] * f;
    }
    ++steps_;
    for (auto& s : slots_) update(s, lr);
    for (size_t l = 0; l < nl; ++l) {
      const Layer& L = layers_[l];
      double du = 0.0;
      for (size_t k = 0; k < before_[l].size(); ++k) {
        double d = double(before_[l][k]) - double(L.W[k]);
        du += d * d;
      }
      double wn = std::sqrt(sumsq(L.W, L.n_out * L.n_in));
      rec[4 + np + l] = wn > 0.0 ? std::sqrt(du) / wn : 0.0;
      rec[4 + np + nl + l] = wn;
    }
    return rec;
  }

  static float* ptr(const at::Tensor& t) {
    TORCH_CHECK(t.is_contiguous() && t.scalar_type() == at::kFloat, "float32 contiguous");
    return t.data_ptr<float>();
  }
  static float* opt_ptr(const at::Tensor& t) { return t.numel() > 0 ? ptr(t) : nullptr; }

  void forward(const float* x, int64_t B) {
    const float* in = x;
    for (auto& L : layers_) {
      const int64_t ni = L.n_in, no = L.n_out, n = B * no;
      L.in = in;
      L.z.resize(n);
      L.a.resize(n);
      L.out.resize(n);
      for (int64_t r = 0; r < B; ++r) {
        const float* xr = in + r * ni;
        for (int64_t j = 0; j < no; ++j) {
          const float* w = L.W + j * ni;
          float acc = 0.0f;
          for (int64_t k = 0; k < ni; ++k) acc += xr[k] * w[k];
          L.z[r * no + j] = acc + L.b[j];
        }
      }
      const float* pre = L.z.data();
      if (L.ln) {
        L.xhat.resize(n);
        L.pre.resize(n);
        L.rstd.resize(B);
        for (int64_t r = 0; r < B; ++r) {
          const float* zr = L.z.data() + r * no;
          double m = 0.0, v = 0.0;
          for (int64_t j = 0; j < no; ++j) m += zr[j];
          m /= double(no);
          for (int64_t j = 0; j < no; ++j) v += (zr[j] - m) * (zr[j] - m);
          v /= double(no);
          const float mean = float(m);
          const float rstd = 1.0f / std::sqrt(float(v) + kLnEps);
          L.rstd[r] = rstd;
          for (int64_t j = 0; j < no; ++j) {
            const float xh = (zr[j] - mean) * rstd;
            L.xhat[r * no + j] = xh;
            L.pre[r * no + j] = xh * L.gamma[j] + L.beta[j];
          }
        }
        pre = L.pre.data();
      }
      act_forward_n(L.act, pre, L.a.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        float h = L.a[i];
        if (L.mask) h = h * (L.mask[i] * L.drop_scale);
        L.out[i] = L.residual ? in[i] + h : h;
      }
      in = L.out.data();
    }
  }

  // The loss (mean over the batch) and d loss / d output into dout_.
  double loss_and_grad(const float* y, int64_t B) {
    const Layer& H = layers_.back();
    const int64_t C = H.n_out;
    const float* o = H.out.data();
    dout_.assign(B * C, 0.0f);
    double loss = 0.0;
    const float invB = 1.0f / float(B);
    if (loss_ == CE || loss_ == MSE_SOFTMAX) {
      std::vector<float> p(C);
      const float eps = float(smoothing_);
      for (int64_t r = 0; r < B; ++r) {
        const float* orow = o + r * C;
        const int64_t t = int64_t(y[r]);
        float mx = orow[0];
        for (int64_t c = 1; c < C; ++c) mx = std::max(mx, orow[c]);
        double se = 0.0;
        for (int64_t c = 0; c < C; ++c) se += std::exp(double(orow[c] - mx));
        const double lse = std::log(se);
        for (int64_t c = 0; c < C; ++c) p[c] = float(std::exp(double(orow[c] - mx) - lse));
        float* d = dout_.data() + r * C;
        if (loss_ == CE) {
          double lp_sum = 0.0;
          for (int64_t c = 0; c < C; ++c) lp_sum += double(orow[c] - mx) - lse;
          const double lpt = double(orow[t] - mx) - lse;
          loss += -(1.0 - smoothing_) * lpt - smoothing_ / double(C) * lp_sum;
          for (int64_t c = 0; c < C; ++c) {
            const float target = (c == t ? 1.0f - eps : 0.0f) + eps / float(C);
            d[c] = (p[c] - target) * invB;
          }
        } else {  // mean over B*C of (p - onehot)^2, through the softmax
          double dot = 0.0;
          std::vector<float> dp(C);
          for (int64_t c = 0; c < C; ++c) {
            const float diff = p[c] - (c == t ? 1.0f : 0.0f);
            loss += double(diff) * diff / double(C);
            dp[c] = 2.0f * diff / float(B * C);
            dot += double(dp[c]) * p[c];
          }
          for (int64_t c = 0; c < C; ++c) d[c] = p[c] * (dp[c] - float(dot));
        }
      }
      return loss / double(B);
    }
    for (int64_t r = 0; r < B; ++r) {  // one output: binary logit or regression value
      const float out = o[r * C];
      const float target = y[r];
      float& d = dout_[r * C];
      switch (loss_) {
        case BCE: {
          const float s = float(smoothing_);
          const float t = s != 0.0f ? target * (1.0f - s) + 0.5f * s : target;
          // (1 - t) * x - log_sigmoid(x), stable for either sign
          const double xd = out;
          const double lsig = xd >= 0 ? -std::log1p(std::exp(-xd)) : xd - std::log1p(std::exp(xd));
          loss += (1.0 - t) * xd - lsig;
          d = (sigmoidf(out) - t) * invB;
          break;
        }
        case MSE: {
          const float diff = out - target;
          loss += double(diff) * diff;
          d = 2.0f * diff * invB;
          break;
        }
        case MSE_SIGMOID: {
          const float p = sigmoidf(out);
          const float diff = p - target;
          loss += double(diff) * diff;
          d = 2.0f * diff * invB * p * (1.0f - p);
          break;
        }
        case HUBER: {
          const float diff = out - target, dl = float(delta_);
          const float ad = std::fabs(diff);
          loss += ad < dl ? 0.5 * double(diff) * diff : double(dl) * (ad - 0.5 * dl);
          d = (diff < -dl ? -dl : (diff > dl ? dl : diff)) * invB;
          break;
        }
        default: {  // L1
          const float diff = out - target;
          loss += std::fabs(diff);
          d = float((diff > 0.0f) - (diff < 0.0f)) * invB;
        }
      }
    }
    return loss / double(B);
  }

  void backward(int64_t B) {
    std::vector<float>& dnext = dnext_;  // d loss / d (this layer's output)
    dnext.assign(dout_.begin(), dout_.end());
    for (int64_t l = int64_t(layers_.size()) - 1; l >= 0; --l) {
      Layer& L = layers_[l];
      const int64_t ni = L.n_in, no = L.n_out, n = B * no;
      std::vector<float>& dz = dz_;
      dz.resize(n);
      const float* pre = L.ln ? L.pre.data() : L.z.data();
      for (int64_t i = 0; i < n; ++i) {
        float g = dnext[i];
        if (L.mask) g = g * (L.mask[i] * L.drop_scale);
        dz[i] = g * act_grad(L.act, pre[i], L.a[i]);
      }
      if (L.ln) {
        std::fill(L.ggamma, L.ggamma + no, 0.0f);
        std::fill(L.gbeta, L.gbeta + no, 0.0f);
        for (int64_t r = 0; r < B; ++r) {
          float* dr = dz.data() + r * no;
          const float* xh = L.xhat.data() + r * no;
          double s1 = 0.0, s2 = 0.0;
          for (int64_t j = 0; j < no; ++j) {
            L.ggamma[j] += dr[j] * xh[j];
            L.gbeta[j] += dr[j];
            const float dxh = dr[j] * L.gamma[j];
            s1 += dxh;
            s2 += double(dxh) * xh[j];
          }
          const float m1 = float(s1 / double(no)), m2 = float(s2 / double(no));
          for (int64_t j = 0; j < no; ++j)
            dr[j] = L.rstd[r] * (dr[j] * L.gamma[j] - m1 - xh[j] * m2);
        }
      }
      for (int64_t j = 0; j < no; ++j) {
        float acc = 0.0f;
        for (int64_t r = 0; r < B; ++r) acc += dz[r * no + j];
        L.gb[j] = acc;
        float* gw = L.gW + j * ni;
        for (int64_t k = 0; k < ni; ++k) {
          float s = 0.0f;
          for (int64_t r = 0; r < B; ++r) s += dz[r * no + j] * L.in[r * ni + k];
          gw[k] = s;
        }
      }
      if (l == 0) break;
      std::vector<float>& din = din_;
      din.resize(B * ni);
      for (int64_t r = 0; r < B; ++r)
        for (int64_t k = 0; k < ni; ++k) {
          float acc = 0.0f;
          for (int64_t j = 0; j < no; ++j) acc += dz[r * no + j] * L.W[j * ni + k];
          din[r * ni + k] = L.residual ? acc + dnext[r * ni + k] : acc;
        }
      dnext.swap(din);
    }
  }

  // L1·Σ|w| + L2/2·Σw² over the Linear weights; adds its gradient to theirs.
  double penalize() {
    if (l1_ == 0.0 && l2_ == 0.0) return 0.0;
    double a = 0.0, s = 0.0;
    const float l1 = float(l1_), l2 = float(l2_);
    for (auto& sl : slots_) {
      if (!sl.decay) continue;
      for (int64_t k = 0; k < sl.n; ++k) {
        const float w = sl.p[k];
        a += std::fabs(double(w));
        s += double(w) * w;
        float g = sl.g[k];
        if (l1 != 0.0f) g += l1 * float((w > 0.0f) - (w < 0.0f));
        if (l2 != 0.0f) g += l2 * w;
        sl.g[k] = g;
      }
    }
    return l1_ * a + 0.5 * l2_ * s;
  }

  // torch.nn.utils.clip_grad_norm_ / clip_grad_value_; returns the norm after clipping.
  double clip_grads(float norm) {
    if (clip_ == NO_CLIP) return 0.0;
    if (clip_ == CLIP_NORM) {
      float coef = float(clip_max_) / (norm + 1e-6f);
      coef = std::min(coef, 1.0f);
      for (auto& s : slots_)
        for (int64_t k = 0; k < s.n; ++k) s.g[k] = s.g[k] * coef;
    } else {
      const float v = float(clip_max_);
      for (auto& s : slots_)
        for (int64_t k = 0; k < s.n; ++k) s.g[k] = std::min(std::max(s.g[k], -v), v);
    }
    double total = 0.0;
    for (auto& s : slots_) total += sumsq(s.g, s.n);
    return std::sqrt(total);
  }

  void update(Slot& s, double lr) {
    float* p = s.p;
    const float* g = s.g;
    switch (opt_) {
      case SGD: {  // torch's fused SGD (momentum buffer in s1)
        const float flr = float(lr);
        if (momentum_ == 0.0) {
          for (int64_t k = 0; k < s.n; ++k) p[k] -= g[k] * flr;
          return;
        }
        const float mom = float(momentum_), damp = float(1.0 - dampening_);
        for (int64_t k = 0; k < s.n; ++k) {
          float gv = g[k];
          s.s1[k] = steps_ == 1 ? gv : s.s1[k] * mom + gv * damp;
          gv = nesterov_ ? gv + s.s1[k] * mom : s.s1[k];
          p[k] -= gv * flr;
        }
        return;
      }
      case ADAM:
      case ADAMW: {  // torch's fused Adam/AdamW (exp_avg s1, exp_avg_sq s2, max s3)
        const double step = double(steps_);
        const double bc1 = 1.0 - std::pow(beta1_, step);
        const double bc2 = 1.0 - std::pow(beta2_, step);
        const float step_size = float(lr / bc1);
        const float bc2_sqrt = float(std::sqrt(bc2));
        const float c1 = float(1.0 - beta1_), c2 = float(1.0 - beta2_), b2 = float(beta2_);
        const float eps = float(eps_);
        const bool small = std::fabs(c1) < 0.5f;
        const float wdf = float(1.0 - lr * wd_);
        for (int64_t k = 0; k < s.n; ++k) {
          const float gv = g[k];
          if (opt_ == ADAMW && s.decay && wd_ != 0.0) p[k] = p[k] * wdf;
          float m = s.s1[k];
          m = small ? m + c1 * (gv - m) : gv - (gv - m) * (1.0f - c1);
          s.s1[k] = m;
          float v = s.s2[k] * b2;
          v = v + c2 * gv * gv;
          s.s2[k] = v;
          if (amsgrad_) {
            s.s3[k] = std::max(s.s3[k], v);
            v = s.s3[k];
          }
          const float denom = std::sqrt(v) / bc2_sqrt + eps;
          p[k] = p[k] - step_size * m / denom;
        }
        return;
      }
      default: {  // torch's foreach RMSprop (square_avg s1, momentum_buffer s2, grad_avg s3)
        const float a = float(alpha_), ca = float(1.0 - alpha_), eps = float(eps_);
        const float mom = float(momentum_), nlr = float(-lr);
        const bool small = std::fabs(ca) < 0.5f;
        for (int64_t k = 0; k < s.n; ++k) {
          const float gv = g[k];
          float sq = s.s1[k] * a;
          sq = sq + ca * gv * gv;
          s.s1[k] = sq;
          float avg;
          if (centered_) {
            float ga = s.s3[k];
            ga = small ? ga + ca * (gv - ga) : gv - (gv - ga) * (1.0f - ca);
            s.s3[k] = ga;
            avg = std::sqrt(sq + -1.0f * ga * ga) + eps;
          } else {
            avg = std::sqrt(sq) + eps;
          }
          if (momentum_ > 0.0) {
            float buf = s.s2[k] * mom;
            buf = buf + 1.0f * gv / avg;
            s.s2[k] = buf;
            p[k] = p[k] + nlr * buf;
          } else {
            p[k] = p[k] + nlr * gv / avg;
          }
        }
      }
    }
  }

  std::vector<at::Tensor> keep_;  // the tensors whose memory the pointers above use
  at::Tensor data_x_, data_y_, order_;
  std::vector<float> bx_, by_;
  std::vector<Layer> layers_;
  std::vector<Slot> slots_;
  std::vector<std::vector<float>> before_;
  std::vector<float> dout_, dnext_, dz_, din_;
  int opt_, loss_;
  int64_t classes_;
  int64_t steps_ = 0;
  double momentum_ = 0, dampening_ = 0, beta1_ = 0.9, beta2_ = 0.999, eps_ = 1e-8;
  double alpha_ = 0.99, l1_ = 0, l2_ = 0, wd_ = 0, clip_max_ = 0, smoothing_ = 0, delta_ = 1;
  bool nesterov_ = false, amsgrad_ = false, centered_ = false;
  int clip_ = NO_CLIP;
};

}  // namespace

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.doc() = "Fused training steps for small dense nets (app/nn/fused)";
  pybind11::class_<Net>(m, "Net")
      .def(pybind11::init<std::vector<at::Tensor>, std::vector<at::Tensor>,
                          std::vector<at::Tensor>, std::vector<at::Tensor>,
                          std::vector<int64_t>, std::vector<int64_t>, std::vector<double>,
                          std::vector<at::Tensor>, std::vector<at::Tensor>, int64_t, int64_t,
                          int64_t>())
      .def("configure", &Net::configure)
      .def("step", &Net::step)
      .def("set_data", &Net::set_data)
      .def("set_order", &Net::set_order)
      .def("step_rows", &Net::step_rows);
}
