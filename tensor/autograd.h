// Define-by-run reverse-mode autograd, small enough to read in one sitting.
//
// Every op that has an input requiring gradients records a Node: which inputs
// it came from (edges) and a closure that turns the gradient of its output
// into gradients for those inputs. The closure captures exactly the tensors
// its backward needs ("saved tensors"); they are freed as soon as the node has
// run, so memory held by the graph shrinks while backward proceeds.
//
// backward() orders the nodes topologically (depth-first from the output),
// then walks them in reverse, summing gradients that arrive at the same node
// from several consumers and accumulating into the .grad of leaf tensors.
//
// Inputs that do not require gradients get an empty edge; the closure is told
// which inputs need a gradient so it can skip work (a frozen conv weight costs
// no weight-gradient kernel at all).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace nib::autograd {

// Where a gradient goes: into another node, or into a leaf's .grad.
struct Edge {
  std::shared_ptr<Node> node;
  std::shared_ptr<TensorImpl> leaf;
  bool active() const { return node || leaf; }
};

// needs[i] says whether input i wants a gradient; the closure returns one
// tensor per input (undefined where needs[i] is false).
using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output, const std::vector<bool>& needs)>;

struct Node {
  std::string name;  // the op, for error messages and graph dumps (graph_dot.h)
  Shape output_shape;
  std::vector<Edge> edges;
  BackwardFn backward;  // reset to null after it ran, freeing saved tensors
};

// True when autograd is on (no NoGrad guard alive on this thread) and one of
// the inputs requires a gradient: only then does an op record a node.
bool needs_graph(std::initializer_list<const Tensor*> inputs);
bool needs_graph(const std::vector<Tensor>& inputs);

// Makes `output` the result of a recorded op: sets requires_grad and grad_fn.
void record(Tensor& output, const char* name, const std::vector<Tensor>& inputs, BackwardFn backward);

// Runs reverse-mode differentiation from `root`, seeded with `seed`.
void run_backward(const Tensor& root, const Tensor& seed, bool retain_graph);

bool grad_enabled();

// Turns graph recording off for its lifetime (evaluation, optimizer steps).
class NoGrad {
 public:
  NoGrad();
  ~NoGrad();
  NoGrad(const NoGrad&) = delete;
  NoGrad& operator=(const NoGrad&) = delete;

 private:
  bool previous_;
};

}  // namespace nib::autograd

namespace nib {
using autograd::NoGrad;
}
