"""The source articles' code examples, reproduced as they were given and then corrected.

Each module reproduces one article's example line by line, its bugs intact
and documented, next to a corrected version, so that a chapter can run the
original, show what fails and why, and then run the fix. Module names give
the article and the example: ``article_001_xor`` is article 001's NumPy XOR
network (section 4.1), taught in chapter 05.

- ``article_001_xor``         NumPy XOR network with hand-written backprop (001 §4.1; chapter 05)
- ``article_001_regression``  TensorFlow/Keras regression, rebuilt in PyTorch (001 §4.3; chapter 08)
- ``article_004_keras_xor``   TensorFlow and Keras XOR networks, rebuilt (004 §5(1)-(2); chapter 08)
- ``article_003_mnist_cnn``   TensorFlow 1 MNIST CNN, rebuilt (003 §4.1; chapter 09)
- ``article_004_rnn_xor``     PyTorch RNN on XOR (004 §5(3); chapter 11)
"""
