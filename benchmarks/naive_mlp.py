"""The curriculum's NeuralNetwork (Project 2), kept naive on purpose as a benchmark baseline.

Its shape is the curriculum's: weight and bias lists, samples as column vectors
(features, 1), ReLU hidden layers, a softmax output, ``delta = output - y``, and
Python loops (over layers, and here over the samples of a mini-batch, one column
at a time). What is fixed, so that the timing measures loops and not bugs:

- ``relu_derivative`` kept ``np.where(z > 0, 1, 0)``, an int64 array that promoted
  every float32 product to float64; it now keeps the input's dtype.
- weights were ``0.01 * randn`` (vanishing signal in a deep net) in float64 from the
  global random state; they are now torch's U(-1/sqrt(fan_in), 1/sqrt(fan_in)) in the
  chosen dtype, drawn from an injected Generator.
- the cost took ``log(softmax + 1e-8)``; it is now the log-softmax of z.
- training was full-batch plain gradient descent; it is mini-batch SGD with
  torch's momentum (``v = mu v + g; w -= lr v``), to match the twins' epoch.
"""
import numpy as np


class NeuralNetwork:
    def __init__(self, layers, learning_rate=0.01, momentum=0.0, dtype=np.float32, rng=None):
        rng = np.random.default_rng() if rng is None else rng
        self.layers, self.learning_rate, self.momentum = layers, learning_rate, momentum
        self.weights, self.biases = [], []
        for fan_in, fan_out in zip(layers[:-1], layers[1:]):
            bound = 1 / np.sqrt(fan_in)
            self.weights.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(dtype))
            self.biases.append(rng.uniform(-bound, bound, (fan_out, 1)).astype(dtype))
        self.weight_velocity = [np.zeros_like(w) for w in self.weights]
        self.bias_velocity = [np.zeros_like(b) for b in self.biases]

    def relu(self, z):
        return np.maximum(z, 0)

    def relu_derivative(self, z):
        return (z > 0).astype(z.dtype)

    def forward_propagation(self, x):
        """x: one sample as a column (features, 1); returns the softmax column (classes, 1)."""
        self.activations, self.z_values = [x], []
        for i in range(len(self.weights)):
            z = np.dot(self.weights[i], self.activations[-1]) + self.biases[i]
            self.z_values.append(z)
            if i == len(self.weights) - 1:
                exp_z = np.exp(z - np.max(z, axis=0, keepdims=True))
                activation = exp_z / np.sum(exp_z, axis=0, keepdims=True)
            else:
                activation = self.relu(z)
            self.activations.append(activation)
        return self.activations[-1]

    def backward_propagation(self, y):
        """Add this sample's gradients (y: one-hot column) to the running sums."""
        delta = self.activations[-1] - y
        for i in range(len(self.weights) - 1, -1, -1):
            self.weight_gradients[i] += np.dot(delta, self.activations[i].T)
            self.bias_gradients[i] += delta
            if i > 0:
                delta = np.dot(self.weights[i].T, delta) * self.relu_derivative(self.z_values[i - 1])

    def cost(self, y):
        z = self.z_values[-1]
        shifted = z - np.max(z)
        return -np.sum(y * (shifted - np.log(np.sum(np.exp(shifted)))))

    def compute_gradients(self, X, Y):
        """X: (n, features) rows, Y: (n, classes) one-hot; one sample at a time. Returns the mean cost."""
        self.weight_gradients = [np.zeros_like(w) for w in self.weights]
        self.bias_gradients = [np.zeros_like(b) for b in self.biases]
        m, cost = X.shape[0], 0.0
        for n in range(m):
            self.forward_propagation(X[n].reshape(-1, 1))
            self.backward_propagation(Y[n].reshape(-1, 1))
            cost += float(self.cost(Y[n].reshape(-1, 1)))
        for grads in (self.weight_gradients, self.bias_gradients):
            for g in grads:
                g /= m
        return cost / m

    def train_batch(self, X, Y):
        cost = self.compute_gradients(X, Y)
        self.update_parameters()
        return cost

    def update_parameters(self):
        for params, grads, velocity in ((self.weights, self.weight_gradients, self.weight_velocity),
                                        (self.biases, self.bias_gradients, self.bias_velocity)):
            for p, g, v in zip(params, grads, velocity):
                v *= self.momentum
                v += g
                p -= self.learning_rate * v

    def train_epoch(self, X, Y, batch_size):
        costs = [self.train_batch(X[i:i + batch_size], Y[i:i + batch_size]) for i in range(0, len(X), batch_size)]
        return float(np.mean(costs))

    def predict(self, X):
        return np.array([np.argmax(self.forward_propagation(x.reshape(-1, 1))) for x in X])
