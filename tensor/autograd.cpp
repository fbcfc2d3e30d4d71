#include "tensor/autograd.h"

#include <unordered_map>
#include <unordered_set>

#include "ops/ops.h"

namespace nib::autograd {

namespace {

thread_local bool g_grad_enabled = true;

bool wants_grad(const Tensor* t) { return t && t->defined() && t->requires_grad(); }

Edge edge_to(const Tensor& input) {
  if (!wants_grad(&input)) return {};
  if (input.grad_fn()) return {input.grad_fn(), nullptr};
  return {nullptr, input.impl_ptr()};
}

// Adds g into the leaf's .grad, allocating it on first use. The first
// gradient is copied because backward closures may hand the same tensor to
// several inputs (add returns gy for both sides).
void accumulate_into_leaf(TensorImpl& leaf, const Tensor& g) {
  NIB_CHECK(g.shape() == leaf.shape, "autograd: gradient of shape ", g.shape(), " for a leaf of shape ", leaf.shape);
  if (!leaf.grad.defined())
    leaf.grad = g.clone();
  else
    ops::axpy_(leaf.grad, 1.0f, g);
}

// Depth-first post-order from the root: a node comes after everything that
// consumes its output, so walking the list backwards is a valid order.
std::vector<Node*> topological_order(Node* root) {
  std::vector<Node*> order;
  std::unordered_set<Node*> seen;
  // An explicit stack, because deep networks would overflow recursion.
  std::vector<std::pair<Node*, size_t>> stack{{root, 0}};
  seen.insert(root);
  while (!stack.empty()) {
    auto& [node, next_edge] = stack.back();
    if (next_edge < node->edges.size()) {
      Node* child = node->edges[next_edge++].node.get();
      if (child && seen.insert(child).second) stack.push_back({child, 0});
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  return order;
}

}  // namespace

bool grad_enabled() { return g_grad_enabled; }

NoGrad::NoGrad() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGrad::~NoGrad() { g_grad_enabled = previous_; }

bool needs_graph(std::initializer_list<const Tensor*> inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor* t : inputs)
    if (wants_grad(t)) return true;
  return false;
}

bool needs_graph(const std::vector<Tensor>& inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor& t : inputs)
    if (wants_grad(&t)) return true;
  return false;
}

// [record]
void record(Tensor& output, const char* name, const std::vector<Tensor>& inputs, BackwardFn backward) {
  auto node = std::make_shared<Node>();
  node->name = name;
  node->output_shape = output.shape();
  node->edges.reserve(inputs.size());
  for (const Tensor& input : inputs) node->edges.push_back(edge_to(input));
  node->backward = std::move(backward);
  output.impl()->requires_grad = true;
  output.impl()->grad_fn = std::move(node);
}
// [/record]

void run_backward(const Tensor& root, const Tensor& seed, bool retain_graph) {
  if (!root.grad_fn()) {  // backward on a leaf: its gradient is the seed
    accumulate_into_leaf(*root.impl(), seed);
    return;
  }
  NoGrad no_grad;  // gradients themselves are not differentiated
  std::vector<Node*> order = topological_order(root.grad_fn().get());
  std::unordered_map<Node*, Tensor> pending{{root.grad_fn().get(), seed}};

  // [walk]
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = *it;
    auto found = pending.find(node);
    if (found == pending.end()) continue;  // no gradient reached this node
    Tensor grad_output = std::move(found->second);
    pending.erase(found);
    NIB_CHECK(node->backward, "autograd: backward through '", node->name,
              "' a second time; pass retain_graph=true to the first backward()");

    std::vector<bool> needs(node->edges.size());
    for (size_t i = 0; i < needs.size(); ++i) needs[i] = node->edges[i].active();
    std::vector<Tensor> grads = node->backward(grad_output, needs);
    NIB_CHECK(grads.size() == node->edges.size(), "autograd: '", node->name, "' returned ", grads.size(),
              " gradients for ", node->edges.size(), " inputs");
    if (!retain_graph) node->backward = nullptr;  // frees the saved tensors

    for (size_t i = 0; i < grads.size(); ++i) {
      const Edge& edge = node->edges[i];
      if (!edge.active() || !grads[i].defined()) continue;
      if (edge.leaf) {
        accumulate_into_leaf(*edge.leaf, grads[i]);
      } else {
        Tensor& slot = pending[edge.node.get()];
        slot = slot.defined() ? ops::add(slot, grads[i]) : grads[i];
      }
    }
  }
  // [/walk]
}

}  // namespace nib::autograd
