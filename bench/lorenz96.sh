#!/bin/sh
# lorenz96.sh N: the Lorenz-96 model with N states, forcing rho (the
# parameter lorenz-bench sweeps), float32 dopri5 at 1e-6 over [0, 1]: a
# model too large for its stages to stay in registers.
n=${1:?usage: lorenz96.sh N}
states=$(seq -s ', x' 0 $((n - 1)))
echo "; Lorenz-96, $n states: dx_i = (x_{i+1} - x_{i-2}) x_{i-1} - x_i + rho"
printf '[model]\nname = lorenz96\nstates = x%s\nparameters = rho\n[equations]\n' "$states"
i=0
while [ $i -lt $n ]; do
	echo "dx$i = (x$(((i + 1) % n)) - x$(((i + n - 2) % n))) * x$(((i + n - 1) % n)) - x$i + rho"
	i=$((i + 1))
done
printf '[initial]\nx0 = 1.01\n'
i=1
while [ $i -lt $n ]; do echo "x$i = 0"; i=$((i + 1)); done
printf '[parameters]\nrho = linspace(0, 21, 1024)\n'
printf '[solve]\nintegrator = dormand_prince_54\natol = 1e-6\nrtol = 1e-6\nduration = 1\nprecision = float32\n'
printf '[device]\nbackend = cuda\n'
