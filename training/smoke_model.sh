# Sourced by training/smoke_test.sh and training/hf_export_test.sh: the tiny model both
# train (d_model 32, one layer, 150 steps on the first 200 KB of a corpus, one thread:
# on a loaded machine torch's spinning worker threads cost more than they give).
#   smoke_args CORPUS   sets the array `args` of train.py's arguments
smoke_args() {
  args=(--data "$1" --data-bytes 200000
      --d-model 32 --n-layers 1 --n-heads 4 --n-kv-heads 1 --head-dim 8 --d-ff 96
      --seq-len 128 --batch 16 --lr 4e-3 --warmup 30 --steps 150
      --windows 0,32,16 --eval-every 0 --final-eval-chunks 24 --sample-chars 40
      --threads 1 --seed 1)
}
